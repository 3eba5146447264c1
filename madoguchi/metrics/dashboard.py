"""The KPI dashboard's content for a period and filter, without HTTP: measure rows beside
their targets and the previous period, trend series, breakdown tables, impact panel."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
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
from madoguchi.metrics.rollup import local_day, period_figures, period_rows
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
    """Per day up to 92 days, else per month (the month rows of the rollup)."""
    if len(filters) > 1:
        return {}
    dim, value = next(iter(filters.items())) if filters else ("all", "")
    by_point: dict[dt.date, Figures] = defaultdict(Figures)
    if period.days <= 92:
        for _dim, _value, day, figures in period_rows(period.first, period.last, [dim], str(value)):
            by_point[day].add_json(figures)
    else:
        first_month = period.first.replace(day=1)
        for _dim, _value, day, figures in period_rows(first_month, _month_end(period.last), [dim], str(value)):
            by_point[day.replace(day=1)].add_json(figures)
    points = sorted(by_point)
    return {code: [(p, MEASURES_BY_CODE[code].value(by_point[p])) for p in points] for code in TREND_MEASURES}


def _month_end(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


def rollup_version() -> int:
    """Changes whenever any rollup row is rebuilt (rebuilt rows get new ids)."""
    from django.db.models import Max

    from madoguchi.metrics.models import DailyRollup

    return DailyRollup.objects.aggregate(top=Max("id"))["top"] or 0


def breakdown(period: Period, dim: str) -> list[tuple[str, dict[str, float | None]]]:
    """One row per team/agent/channel/category value over the period (whole desk).
    Cached until any rollup changes, so a repeat view costs one indexed MAX(id)."""
    from django.core.cache import cache

    key = f"metrics:breakdown:{dim}:{period.first}:{period.last}:{rollup_version()}"
    rows = cache.get(key)
    if rows is None:
        rows = _breakdown(period, dim)
        cache.set(key, rows, 3600)
    return rows


def _breakdown(period: Period, dim: str) -> list[tuple[str, dict[str, float | None]]]:
    sums: dict[str, Figures] = defaultdict(Figures)
    for _dim, value, _day, figures in period_rows(period.first, period.last, [dim]):
        sums[value].add_json(figures)
    return [(value, {c: MEASURES_BY_CODE[c].value(f) for c in BREAKDOWN_MEASURES}) for value, f in sums.items()]


def impact_of(figures: Figures, period: Period) -> Impact | None:
    satisfaction = MEASURES_BY_CODE["csat"].value(figures)
    if satisfaction is None or not figures.cases:
        return None
    inputs = ImpactInputs.objects.first() or ImpactInputs()
    return impact(figures.cases / period.days, satisfaction, inputs.unhappy_leave_percent)


def build(period: Period, filters: dict[str, str], with_breakdowns: bool = True) -> Dashboard:
    goals = targets()
    current = period_figures(period.first, period.last, filters)
    previous = period_figures(period.previous().first, period.previous().last, filters)
    rows = measure_rows(current, previous, goals)
    board = Dashboard(period, rows, change_rows(rows, goals), _trend(period, filters),
                      impact=impact_of(current, period), figures=current)
    if with_breakdowns:
        board.breakdowns = {dim: breakdown(period, dim) for dim in ("team", "agent", "channel", "category")}
    return board
