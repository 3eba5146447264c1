"""Creating and reading in-app notifications."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.utils import timezone

from madoguchi.notifications.models import Notification

if TYPE_CHECKING:
    from madoguchi.accounts.models import User
    from madoguchi.cases.models import Case


def when(moment: dt.datetime) -> str:
    """A date and time inside a notification's text, in the shop's zone and in the format every
    page shows times in (the notification list's own column, the case page: Y/m/d H:i)."""
    return timezone.localtime(moment).strftime("%Y/%m/%d %H:%M")


def do_notify(users: list[User], *, kind: str, message: str, case: Case | None = None) -> list[Notification]:
    return Notification.objects.bulk_create(
        [Notification(user=user, case=case, kind=kind, message=message[:300]) for user in users]
    )


def unread_for(user: User, limit: int = 20) -> list[Notification]:
    return list(
        Notification.objects.filter(user=user, read_at__isnull=True).select_related("case").order_by("-created_at")[:limit]
    )


def do_mark_read(user: User, notification_id: int | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())
