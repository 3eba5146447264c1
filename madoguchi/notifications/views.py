from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts.access import staff_user
from madoguchi.ids import parse_id
from madoguchi.notifications.models import Notification
from madoguchi.notifications.services import (
    do_mark_read,
    do_save_mail_preferences,
    mail_preference_form,
)


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    items = Notification.objects.filter(user=user).select_related("case").order_by("-created_at")[:100]
    return render(request, "notifications/list.html", {"items": items})


@login_required
@require_POST
def mark_read(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    raw = request.POST.get("id", "")
    notification_id = parse_id(raw)
    if raw and notification_id is None:  # a malformed id marks nothing, rather than everything
        return redirect("notifications:list")
    do_mark_read(user, notification_id)
    return redirect("notifications:list")


@login_required
@require_POST
def save_mail_preferences(request: HttpRequest) -> HttpResponse:
    """The 「メール通知」 section of the person's own settings page (accounts:me). By htmx the
    section comes back (saved, or with the errors); without, back to the page or the errors alone."""
    user = staff_user(request)
    form = mail_preference_form(user, request.POST)
    if not form.is_valid():
        if request.headers.get("HX-Request"):  # htmx swaps 2xx answers only: the errors in place
            return render(request, "notifications/_mail_preferences.html", {"mail_form": form})
        return render(request, "notifications/mail_preferences.html", {"mail_form": form}, status=400)
    do_save_mail_preferences(form, actor=user)
    if request.headers.get("HX-Request"):
        return render(request, "notifications/_mail_preferences.html",
                      {"mail_form": mail_preference_form(user), "saved": True})
    messages.success(request, _("メール通知の設定を保存しました。"))
    return redirect("accounts:me")
