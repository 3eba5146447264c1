"""Creating and reading in-app notifications."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils import timezone, translation

from madoguchi.notifications.models import Notification

if TYPE_CHECKING:
    from madoguchi.accounts.models import User
    from madoguchi.cases.models import Case


def do_notify(users: list[User], *, kind: str, message: str, case: Case | None = None,
              params: dict[str, Any] | None = None) -> list[Notification]:
    """`message` with `params`: a msgid marked with gettext_noop, shown in the reader's language
    (Notification.text says how params are shown)."""
    return Notification.objects.bulk_create(
        [Notification(user=user, case=case, kind=kind, message=message[:300], params=params or {}) for user in users]
    )


def msgid(label: Any) -> str:
    """The catalogue's msgid of a translated label (a choice's label), to store as a *_label
    param: shown again in the reader's language."""
    with translation.override(None):
        return str(label)


def unread_for(user: User, limit: int = 20) -> list[Notification]:
    return list(
        Notification.objects.filter(user=user, read_at__isnull=True).select_related("case").order_by("-created_at")[:limit]
    )


def do_mark_read(user: User, notification_id: int | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())
