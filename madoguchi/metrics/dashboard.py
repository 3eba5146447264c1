"""The KPI dashboard's content for a period and filter, without HTTP: measure rows beside
their targets and the previous period, trend series, breakdown tables, impact panel."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from madoguchi.metrics.definitions import (
    MEASURES,
    MEASURES_BY_CODE,
    Figures,
    Impact,
    change_percent,
    impact,
    meets,
)
from madoguchi.metrics.models import ImpactInputs
from madoguchi.metrics.rollup import grouped, local_day, period_figures
from madoguchi.metrics.services import targets

TREND_MEASURES = ["cases", "chat_first_answer_median", "email_first_reply_median", "csat", "resolution_rate", "sla_attainment"]
BREAKDOWN_MEASURES = ["cases", "chat_first_answer_median", "email_first_reply_median", "resolution_median",
                      "csat", "resolution_rate", "sla_attainment", "cancellations", "refunds"]
INLINE_REFRESH_DAYS = 1  # the dashboard rebuilds one dirty day itself; the minute job does the rest


@dataclass
class Period:
    first: dt.date
    last: dt.date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        last = self.first - dt.timedelta(days=1)
        return Period(last - dt.timedelta(days=self.days - 1), last)


def default_period(today: dt.date | None = None) -> Period:
    today = today or local_day(timezone.now())
    return Period(today - dt.timedelta(days=29), today)


@dataclass
class MeasureRow:
    code: str
    label: Any
    unit: str
    definition: Any
    value: float | None
    previous: float | None
    target: float | None
    ok: bool | None
    change: float | None = None
    better: str = "higher"


@dataclass
class Dashboard:
    period: Period
    rows: list[MeasureRow]
    changes: list[MeasureRow]
    trend: dict[str, list[tuple[dt.date, float | None]]]
    breakdowns: dict[str, list[tuple[str, dict[str, float | None]]]] = field(default_factory=dict)
    impact: Impact | None = None
    figures: Figures | None = None


def measure_rows(current: Figures, previous: Figures, goals: dict[str, float | None]) -> list[MeasureRow]:
    rows = []
    for m in MEASURES:
        value, before = m.value(current), m.value(previous)
        rows.append(MeasureRow(m.code, m.label, m.unit, m.definition, value, before, goals.get(m.code),
                               meets(m.better, value, goals.get(m.code)), change_percent(value, before), m.better))
    return rows


def change_rows(rows: list[MeasureRow], goals: dict[str, float | None]) -> list[MeasureRow]:
    """Cancellations and refunds against the previous period (seed 002: −15 %)."""
    result = []
    for row in rows:
        if row.code in ("cancellations", "refunds"):
            code = f"{row.code}_change"
            target = goals.get(code)
            result.append(MeasureRow(code, row.label, "%", row.definition, row.change, None, target,
                                     meets("lower", row.change, target), better="lower"))
    return result


def _trend(period: Period, filters: dict[str, str]) -> dict[str, list[tuple[dt.date, float | None]]]:
    """Per day up to 92 days (the day rows), else per month (the month rows)."""
    if period.days <= 92:
        by_point: dict[dt.date, Figures] = {
            day: s.figures() for day, s in grouped(period.first, period.last, filters, "day", per_day=True).items()
            if isinstance(day, dt.date)
        }
    else:
        sums = grouped(period.first.replace(day=1), _month_end(period.last), filters, "day")
        by_point = {}
        for day, s in sums.items():
            assert isinstance(day, dt.date)
            by_point.setdefault(day.replace(day=1), Figures()).add(s.figures())
    points = sorted(by_point)
    return {code: [(p, MEASURES_BY_CODE[code].value(by_point[p])) for p in points] for code in TREND_MEASURES}


def _month_end(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


def rollup_version() -> int:
    """Changes whenever any rollup row is written (changed rows are written as new rows)."""
    from django.db.models import Max

    from madoguchi.metrics.models import Cell

    return Cell.objects.aggregate(top=Max("id"))["top"] or 0


def breakdown(period: Period, dim: str, filters: dict[str, str] | None = None) -> list[tuple[str, dict[str, float | None]]]:
    """One row per team/agent/channel/category value over the period, under the filters.
    Cached until any rollup row changes, so a repeat view costs one indexed MAX(id)."""
    from django.core.cache import cache

    filters = filters or {}
    chosen = "&".join(f"{k}={v}" for k, v in sorted(filters.items()))
    key = f"metrics:breakdown:{dim}:{period.first}:{period.last}:{chosen}:{rollup_version()}"
    rows = cache.get(key)
    if rows is None:
        rows = _breakdown(period, dim, filters)
        cache.set(key, rows, 3600)
    return rows


def _breakdown(period: Period, dim: str, filters: dict[str, str]) -> list[tuple[str, dict[str, float | None]]]:
    sums = grouped(period.first, period.last, filters, dim)
    rows = []
    for value, s in sums.items():
        f = s.figures()
        rows.append((str(value), {c: MEASURES_BY_CODE[c].value(f) for c in BREAKDOWN_MEASURES}))
    return rows


def impact_of(figures: Figures, period: Period) -> Impact | None:
    satisfaction = MEASURES_BY_CODE["csat"].value(figures)
    if satisfaction is None or not figures.cases:
        return None
    inputs = ImpactInputs.objects.first() or ImpactInputs()
    return impact(figures.cases / period.days, satisfaction, inputs.unhappy_leave_percent)


def build(period: Period, filters: dict[str, str], with_breakdowns: bool = True,
          dims: tuple[str, ...] = ("team", "agent", "channel", "category")) -> Dashboard:
    goals = targets()
    current = period_figures(period.first, period.last, filters)
    previous = period_figures(period.previous().first, period.previous().last, filters)
    rows = measure_rows(current, previous, goals)
    board = Dashboard(period, rows, change_rows(rows, goals), _trend(period, filters),
                      impact=impact_of(current, period), figures=current)
    if with_breakdowns:
        board.breakdowns = {dim: breakdown(period, dim, filters) for dim in dims}
    return board
