"""The badges of the navigation bar on every desk page (unread notifications, waiting chats,
mails that could not be read), read in one statement, and only when a page shows the bar:
htmx fragments of the case page render with the same context processors but never touch it."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from madoguchi import badges

# A view that reads the bar's badges in a statement of its own (the inbox, with its queue
# badges) leaves their labels on the request under this name; the bar then asks nothing more.
PRESET = "madoguchi_nav_badges"


def badge_rows(user: Any) -> dict[str, QuerySet[Any]]:
    from madoguchi.chat.models import ChatSession, SessionState
    from madoguchi.mail.models import RawMessage, RawState
    from madoguchi.notifications.models import Notification

    return {
        "notifications": Notification.objects.filter(user=user, read_at__isnull=True),
        "chat": ChatSession.objects.filter(state=SessionState.WAITING, customer_first_message_at__isnull=False),
        "mail": RawMessage.objects.filter(state=RawState.FAILED),
    }


def _read(user: Any) -> dict[str, str]:
    return {name: badges.label(count) for name, count in badges.capped_counts(badge_rows(user)).items()}


def nav_badges(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from madoguchi.accounts.models import Availability

    # The top bar's 対応可能 / 離席 / 休暇 (no query: the user row is loaded already).
    preset = getattr(request, PRESET, None)
    return {"nav_badges": preset if preset is not None else SimpleLazyObject(lambda: _read(user)),
            "availability_choices": Availability.choices}
