"""The badges of the navigation bar on every desk page (unread notifications, waiting chats,
mails that could not be read), read in one statement, and only when a page shows the bar:
htmx fragments of the case page render with the same context processors but never touch it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from madoguchi import badges


def _read(user: Any) -> dict[str, str]:
    from madoguchi.chat.models import ChatSession, SessionState
    from madoguchi.mail.models import RawMessage, RawState
    from madoguchi.notifications.models import Notification

    counts = badges.capped_counts({
        "notifications": Notification.objects.filter(user=user, read_at__isnull=True),
        "chat": ChatSession.objects.filter(state=SessionState.WAITING, customer_first_message_at__isnull=False),
        "mail": RawMessage.objects.filter(state=RawState.FAILED),
    })
    return {name: badges.label(count) for name, count in counts.items()}


def nav_badges(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from madoguchi.accounts.models import Availability

    # The top bar's 対応可能 / 離席 / 休暇 (no query: the user row is loaded already).
    return {"nav_badges": SimpleLazyObject(lambda: _read(user)), "availability_choices": Availability.choices}
