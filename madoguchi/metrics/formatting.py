"""How a measure's value is shown: seconds as a duration, shares as %, amounts in yen (both in the
active language, madoguchi.figures); and how long an SLA timer has left or is overdue."""

from __future__ import annotations

from django.utils.translation import gettext as _

from madoguchi.figures import duration, yen


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "s":
        return duration(value)
    if unit == "%":
        return f"{value:.1f}%"
    if unit == "yen":
        return yen(value)
    if unit == "points":
        return f"{value:+.0f}"
    return f"{value:,.1f}".removesuffix(".0")


def format_timer(seconds_left: float) -> str:
    """「残り3時間10分」 or, once the due time has passed, 「6日超過」."""
    text = duration(seconds_left)
    return _("%(time)s超過") % {"time": text} if seconds_left < 0 else _("残り%(time)s") % {"time": text}
