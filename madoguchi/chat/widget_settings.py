"""What the chat widget does, as the shop set it on the desk (chat.WidgetSettings), with the
environment's settings as the default until it is saved.

Read by the widget's socket at each connection (the origin check, the greeting), by the
public widget endpoints and by `services.within_business_hours`. Kept for CACHE_SECONDS in each
process; a save clears this process's copy at once (the desk and the widget share `serve`)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

CACHE_SECONDS = 10


@dataclass(frozen=True)
class Widget:
    allowed_origins: tuple[str, ...]
    follow_business_hours: bool
    opens: dt.time | None
    closes: dt.time | None
    greeting: str
    saved: bool  # False: the environment's defaults

    def within_chat_hours(self, at: dt.datetime) -> bool:
        """Inside the widget's own daily window (shop time); always when none is set."""
        if self.opens is None or self.closes is None:
            return True
        now = timezone.localtime(at).time()
        return self.opens <= now < self.closes


_lock = threading.Lock()
_cached: tuple[float, Widget | None] | None = None  # (when read, the saved row or None)


def forget(*args: object, **kwargs: object) -> None:
    global _cached
    with _lock:
        _cached = None


def defaults() -> Widget:
    return Widget(tuple(settings.MADOGUCHI_CHAT_ALLOWED_ORIGINS), bool(settings.MADOGUCHI_CHAT_BUSINESS_HOURS),
                  None, None, "", saved=False)


def current() -> Widget:
    """The saved settings, else the environment's (read each time, never cached)."""
    global _cached
    with _lock:
        cached = _cached if _cached is not None and time.monotonic() - _cached[0] < CACHE_SECONDS else None
    if cached is None:
        from madoguchi.chat.models import WidgetSettings

        row = WidgetSettings.objects.filter(pk=1).first()
        saved = None if row is None else Widget(
            tuple(row.origin_list()), row.follow_business_hours, row.opens, row.closes, row.greeting, saved=True)
        with _lock:
            _cached = cached = (time.monotonic(), saved)
    return cached[1] or defaults()
