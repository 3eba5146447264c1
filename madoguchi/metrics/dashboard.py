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
    sample,
)
from madoguchi.metrics.models import ImpactInputs
from madoguchi.metrics.rollup import grouped, local_day, period_figures
from madoguchi.metrics.services import min_sample, targets

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
    n: int | None = None  # what the value stands on (answers, cases, targets); None for a count
    previous_n: int | None = None
    thin: bool = False  # fewer than the shop's minimum: shown greyed, not judged against the target
    previous_thin: bool = False


@dataclass
class Dashboard:
    period: Period
    rows: list[MeasureRow]
    changes: list[MeasureRow]
    trend: dict[str, list[tuple[dt.date, float | None]]]
    breakdowns: dict[str, list[tuple[str, dict[str, float | None]]]] = field(default_factory=dict)
    impact: Impact | None = None
    figures: Figures | None = None
    min_sample: int = 0
    # The survey answers behind the satisfaction when they are too few to project from.
    impact_withheld: int | None = None


def is_thin(n: int | None, minimum: int) -> bool:
    """A value from fewer than `minimum` answers (cases, targets): noise, not a figure."""
    return n is not None and n < minimum


def measure_rows(current: Figures, previous: Figures, goals: dict[str, float | None], minimum: int = 0) -> list[MeasureRow]:
    rows = []
    for m in MEASURES:
        value, before = m.value(current), m.value(previous)
        n, previous_n = sample(m.code, current), sample(m.code, previous)
        thin = value is not None and is_thin(n, minimum)  # no value ("—"): nothing to grey
        rows.append(MeasureRow(m.code, m.label, m.unit, m.definition, value, before, goals.get(m.code),
                               None if thin else meets(m.better, value, goals.get(m.code)), change_percent(value, before),
                               m.better, n, previous_n, thin, before is not None and is_thin(previous_n, minimum)))
    return rows


def change_rows(rows: list[MeasureRow], goals: dict[str, float | None], minimum: int = 0) -> list[MeasureRow]:
    """Cancellations and refunds against the previous period (target: −15 %). The change is a
    rate of the previous period's count: its n."""
    result = []
    for row in rows:
        if row.code in ("cancellations", "refunds"):
            code = f"{row.code}_change"
            target = goals.get(code)
            base = int(row.previous) if row.previous is not None else None
            thin = row.change is not None and is_thin(base, minimum)
            result.append(MeasureRow(code, row.label, "%", row.definition, row.change, None, target,
                                     None if thin else meets("lower", row.change, target), better="lower",
                                     n=base, thin=thin))
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
        values: dict[str, float | None] = {c: MEASURES_BY_CODE[c].value(f) for c in BREAKDOWN_MEASURES}
        # n of each rate beside it ("n:csat"), so the table can show and grey it.
        values.update({f"n:{c}": float(n) for c in BREAKDOWN_MEASURES if (n := sample(c, f)) is not None})
        rows.append((str(value), values))
    return rows


def impact_of(figures: Figures, period: Period, minimum: int = 0) -> Impact | None:
    """No projection from a satisfaction of fewer than `minimum` answers."""
    satisfaction = MEASURES_BY_CODE["csat"].value(figures)
    if satisfaction is None or not figures.cases or is_thin(figures.ratings, minimum):
        return None
    inputs = ImpactInputs.objects.first() or ImpactInputs()
    return impact(figures.cases / period.days, satisfaction, inputs.unhappy_leave_percent)


def build(period: Period, filters: dict[str, str], with_breakdowns: bool = True,
          dims: tuple[str, ...] = ("team", "agent", "channel", "category")) -> Dashboard:
    goals = targets()
    minimum = min_sample()
    current = period_figures(period.first, period.last, filters)
    previous = period_figures(period.previous().first, period.previous().last, filters)
    rows = measure_rows(current, previous, goals, minimum)
    board = Dashboard(period, rows, change_rows(rows, goals, minimum), _trend(period, filters),
                      impact=impact_of(current, period, minimum), figures=current, min_sample=minimum)
    if board.impact is None and current.ratings and is_thin(current.ratings, minimum):
        board.impact_withheld = current.ratings
    if with_breakdowns:
        board.breakdowns = {dim: breakdown(period, dim, filters) for dim in dims}
    return board
