from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from madoguchi.accounts.models import User
from madoguchi.notifications.models import Notification
from madoguchi.notifications.services import do_mark_read


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    items = Notification.objects.filter(user=user).select_related("case").order_by("-created_at")[:100]
    return render(request, "notifications/list.html", {"items": items})


@login_required
@require_POST
def mark_read(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    do_mark_read(user, int(request.POST["id"]) if request.POST.get("id", "").isdigit() else None)
    return redirect("notifications:list")
