from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from madoguchi.notifications.models import Notification


def unread_notifications(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Capped count: one indexed query however many notifications a user has.
    count = Notification.objects.filter(user=user, read_at__isnull=True)[:100].count()
    return {"unread_notification_count": count}
