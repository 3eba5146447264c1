"""How a measure's value is shown: seconds as 分・秒, shares as %, yen with commas; and how
long an SLA timer has left or is overdue."""

from __future__ import annotations

from django.utils.translation import gettext as _

DAY, HOUR = 86400, 3600


def format_seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}秒"
    minutes, sec = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}分{sec:02d}秒" if sec else f"{minutes}分"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}時間{minutes:02d}分"


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "s":
        return format_seconds(value)
    if unit == "%":
        return f"{value:.1f}%"
    if unit == "yen":
        return f"¥{int(value):,}"
    if unit == "points":
        return f"{value:+.0f}"
    return f"{value:,.1f}".removesuffix(".0")


def format_span(seconds: float) -> str:
    """A time left or overdue as a person says it: 「12分05秒」 under an hour, 「5時間20分」
    under a day, 「1日4時間」 under two days, then whole days 「6日」 (150時間35分 is 6日).
    Madoguchi's timer.js counts down with the same rule."""
    seconds = abs(int(seconds))
    if seconds < HOUR:
        return _("%(m)s分%(s)s秒") % {"m": seconds // 60, "s": seconds % 60}
    if seconds < DAY:
        return _("%(h)s時間%(m)s分") % {"h": seconds // HOUR, "m": seconds % HOUR // 60}
    hours = int(seconds / HOUR + 0.5)  # halves up, as Math.round in timer.js
    if hours < 48:
        return _("%(d)s日%(h)s時間") % {"d": 1, "h": hours - 24} if hours > 24 else _("%(d)s日") % {"d": 1}
    return _("%(d)s日") % {"d": int(seconds / DAY + 0.5)}


def format_timer(seconds_left: float) -> str:
    """「残り3時間10分」 or, once the due time has passed, 「6日超過」."""
    text = format_span(seconds_left)
    return _("%(time)s超過") % {"time": text} if seconds_left < 0 else _("残り%(time)s") % {"time": text}
