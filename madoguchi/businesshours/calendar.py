"""Business-hours arithmetic on the shop's calendar.

Business time is the union of the weekly opening spans (local time, settings.TIME_ZONE)
minus the shop's closed days and, unless switched off, Japan's public holidays (jpholiday:
includes 振替休日 and 国民の休日). Datetimes in and out are timezone-aware.

The calendar rows are read once and kept for CACHE_SECONDS, because SLA clocks ask many
times per request; saving a row in the admin clears the cache of this process at once.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

import jpholiday
from django.conf import settings
from django.utils.translation import gettext as _

CACHE_SECONDS = 60
# How far the search for the next open moment looks before giving up (a shop with no
# opening hours at all would otherwise loop forever).
MAX_SEARCH_DAYS = 800

Span = tuple[dt.time, dt.time]


@dataclass(frozen=True)
class Calendar:
    weekly: dict[int, tuple[Span, ...]]
    closed_annual: frozenset[tuple[int, int]] = frozenset()
    closed_dates: frozenset[dt.date] = frozenset()
    public_holidays_closed: bool = True
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo(settings.TIME_ZONE))

    def is_business_day(self, day: dt.date) -> bool:
        if not self.weekly.get(day.weekday()):
            return False
        if (day.month, day.day) in self.closed_annual or day in self.closed_dates:
            return False
        return not (self.public_holidays_closed and _is_public_holiday(day))

    def spans(self, day: dt.date) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """The day's opening spans as aware datetimes, earliest first."""
        if not self.is_business_day(day):
            return
        for opens, closes in self.weekly[day.weekday()]:
            yield dt.datetime.combine(day, opens, self.tz), dt.datetime.combine(day, closes, self.tz)


@lru_cache(maxsize=4096)
def _is_public_holiday(day: dt.date) -> bool:
    return jpholiday.is_holiday(day)


DEFAULT_WEEKLY: dict[int, tuple[Span, ...]] = {d: ((dt.time(9), dt.time(18)),) for d in range(5)}

_lock = threading.Lock()
_cached: tuple[float, Calendar] | None = None


def forget(*args: object, **kwargs: object) -> None:
    """Drop the cached calendar (connected to the models' save/delete signals)."""
    global _cached
    with _lock:
        _cached = None


def load() -> Calendar:
    """The shop's calendar from the database (cached for CACHE_SECONDS)."""
    global _cached
    with _lock:
        if _cached is not None and time.monotonic() - _cached[0] < CACHE_SECONDS:
            return _cached[1]
    from madoguchi.businesshours.models import CalendarOptions, ClosedDay, WeeklyHours

    weekly: dict[int, list[Span]] = {}
    for row in WeeklyHours.objects.order_by("weekday", "opens"):
        weekly.setdefault(row.weekday, []).append((row.opens, row.closes))
    annual: set[tuple[int, int]] = set()
    dated: set[dt.date] = set()
    for closed in ClosedDay.objects.all():
        if closed.year:
            dated.update(closed.dates_from(closed.year))
        else:
            # A leap year: 2/29 in a range (or alone) is kept, and met only in leap years.
            annual.update((d.month, d.day) for d in closed.dates_from(2024))
    options = CalendarOptions.objects.first()
    calendar = Calendar(
        # No rows at all means nobody set hours yet (a shop never open is no shop): defaults.
        weekly={day: tuple(spans) for day, spans in weekly.items()} or DEFAULT_WEEKLY,
        closed_annual=frozenset(annual),
        closed_dates=frozenset(dated),
        public_holidays_closed=options.closed_on_public_holidays if options else True,
    )
    with _lock:
        _cached = (time.monotonic(), calendar)
    return calendar


def _local_day(at: dt.datetime, calendar: Calendar) -> dt.date:
    if at.tzinfo is None:
        raise ValueError("business hours need timezone-aware datetimes")
    return at.astimezone(calendar.tz).date()


def is_open(at: dt.datetime, calendar: Calendar | None = None) -> bool:
    calendar = calendar or load()
    return any(start <= at < end for start, end in calendar.spans(_local_day(at, calendar)))


def next_open(at: dt.datetime, calendar: Calendar | None = None) -> dt.datetime:
    """`at` itself when the shop is open then, else the start of the next opening span."""
    calendar = calendar or load()
    day = _local_day(at, calendar)
    for offset in range(MAX_SEARCH_DAYS):
        for start, end in calendar.spans(day + dt.timedelta(days=offset)):
            if at < end:
                return max(at, start)
    raise ValueError(_("営業時間が設定されていません。"))


def business_seconds_between(a: dt.datetime, b: dt.datetime, calendar: Calendar | None = None) -> int:
    """Whole seconds of business time in [a, b); 0 when b is not after a."""
    if b <= a:
        return 0
    calendar = calendar or load()
    day, last = _local_day(a, calendar), _local_day(b, calendar)
    total = 0.0
    while day <= last:
        for start, end in calendar.spans(day):
            overlap = (min(end, b) - max(start, a)).total_seconds()
            if overlap > 0:
                total += overlap
        day += dt.timedelta(days=1)
    return int(total)


def add_business_seconds(at: dt.datetime, seconds: int, calendar: Calendar | None = None) -> dt.datetime:
    """The moment `seconds` of business time after `at` (an SLA deadline)."""
    calendar = calendar or load()
    remaining = float(seconds)
    day = _local_day(at, calendar)
    for offset in range(MAX_SEARCH_DAYS * 10):
        for start, end in calendar.spans(day + dt.timedelta(days=offset)):
            if end <= at:
                continue
            start = max(start, at)
            available = (end - start).total_seconds()
            if remaining <= available:
                return start + dt.timedelta(seconds=remaining)
            remaining -= available
    raise ValueError(_("営業時間が設定されていません。"))


@dataclass(frozen=True)
class DayOff:
    day: dt.date
    name: str
    public_holiday: bool


def days_off(year: int) -> list[DayOff]:
    """Japan's public holidays and the shop's own closed days falling in `year`, by date (the
    settings page's read-only calendar; a range crossing the year's end shows its part)."""
    from madoguchi.businesshours.models import ClosedDay

    found = [DayOff(day, str(name), True) for day, name in jpholiday.year_holidays(year)]
    for closed in ClosedDay.objects.all():
        starts = [closed.year] if closed.year else [year - 1, year]
        for start in starts:
            try:
                dates = closed.dates_from(start)
            except ValueError:  # 2/29 in a year without one
                continue
            found.extend(DayOff(day, closed.name, False) for day in dates if day.year == year)
    return sorted(found, key=lambda off: (off.day, not off.public_holiday))
