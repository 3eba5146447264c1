"""How a measure's value is shown: seconds as 分・秒, shares as %, yen with commas."""

from __future__ import annotations


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
