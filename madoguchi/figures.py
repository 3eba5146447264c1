"""Figures as people read them, in the active language: durations, amounts of money, dates.

One place for each, used by Python code and (through the builtin template library
madoguchi/accounts/templatetags/figures.py) by every template:
- duration(3840) is 「1時間04分」 in Japanese and "1 h 04 min" in English; past a day it reads
  in days (「1日4時間」, then 「6日」 / "6 days"). metrics/static/metrics/timer.js counts SLA
  timers down with the same rule and the same catalogue entries.
- yen(3000) is 「3,000円」 in Japanese and "¥3,000" in English.
- long_date(date) is 「2026年1月1日」 / "Jan. 1, 2026" (Django's DATE_FORMAT of the language).
- stamp(moment) is 「2026/01/01 09:05」 in the shop's zone: a date and time as every list, the
  case page and the notifications show it (the templates' |date:"Y/m/d H:i").
"""

from __future__ import annotations

import datetime as dt

from django.utils import formats, timezone
from django.utils.translation import gettext, ngettext, pgettext

DAY, HOUR, MINUTE = 86400, 3600, 60


def duration(seconds: float | None) -> str:
    """Under a minute in seconds, under an hour in minutes and seconds, under a day in hours and
    minutes, under two days 「1日4時間」, then whole days (hours and days rounded half up)."""
    if seconds is None:
        return "—"
    seconds = abs(int(round(seconds)))
    if seconds < MINUTE:
        return gettext("%(s)s秒") % {"s": seconds}
    if seconds < HOUR:
        minutes, rest = divmod(seconds, MINUTE)
        if not rest:
            return gettext("%(m)s分") % {"m": minutes}
        return gettext("%(m)s分%(s)s秒") % {"m": minutes, "s": f"{rest:02d}"}
    if seconds < DAY:
        return gettext("%(h)s時間%(m)s分") % {"h": seconds // HOUR, "m": f"{seconds % HOUR // MINUTE:02d}"}
    hours = int(seconds / HOUR + 0.5)
    if hours < 48:
        return gettext("%(d)s日%(h)s時間") % {"d": 1, "h": hours - 24} if hours > 24 else days(1)
    return days(int(seconds / DAY + 0.5))


def days(n: int) -> str:
    return ngettext("%(d)s日", "%(d)s日", n) % {"d": n}


def sep() -> str:
    """The separator between items on one line: 「・」 in Japanese, "·" in English."""
    return pgettext("区切り", "・")


def yen(amount: float | None) -> str:
    return gettext("%(amount)s円") % {"amount": formats.number_format(int(amount or 0), force_grouping=True)}


def long_date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.date_format(value, "DATE_FORMAT")


STAMP = "%Y/%m/%d %H:%M"


def stamp(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return (timezone.localtime(value) if timezone.is_aware(value) else value).strftime(STAMP)
