from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from madoguchi.accounts.access import staff_user
from madoguchi.ids import parse_id
from madoguchi.notifications.models import Notification
from madoguchi.notifications.services import do_mark_read


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
