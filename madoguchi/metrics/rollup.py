"""Incremental rollups behind the dashboard: always fresh within a minute, never a nightly batch.

Every write that changes a case's figures marks the case's received day dirty
(`mark_dirty`); the minute job (tasks.py) — and the dashboard itself, for a few days —
rebuilds dirty days from the source rows, then sums their month again. A period is read as
whole months plus the days at its edges: about 40 rows for a year, whatever the case count.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from madoguchi.cases.models import (
    Case,
    Commitment,
    CommitmentState,
    Compensation,
    CompensationState,
)
from madoguchi.metrics.definitions import CaseRow, Figures, figures_of
from madoguchi.metrics.models import DailyRollup, DirtyDay

DIMS = ("team", "agent", "channel", "category")
FILTER_FIELDS = {"team": "team_id", "agent": "assignee_id", "channel": "channel", "category": "category_id"}


def tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_day(at: dt.datetime) -> dt.date:
    return at.astimezone(tz()).date()


def day_bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start of `first`, start of the day after `last`) as aware datetimes."""
    start = dt.datetime.combine(first, dt.time(), tz())
    return start, dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tz())


def mark_dirty(*moments: dt.datetime | None) -> None:
    now = timezone.now()
    days = {local_day(m) for m in moments if m is not None}
    DirtyDay.objects.bulk_create(
        [DirtyDay(day=day, marked_at=now) for day in days],
        update_conflicts=True, unique_fields=["day"], update_fields=["marked_at"],
    )


# --- source rows -----------------------------------------------------------------------------------

VALUES = (
    "id", "channel", "team_id", "assignee_id", "category_id",
    "sla__first_wall_seconds", "sla__first_business_seconds", "sla__resolution_business_seconds",
    "sla__reopen_count", "sla__targets_due", "sla__targets_met",
    "outcome__resolved", "outcome__cancelled", "outcome__refund_asked", "outcome__kept", "outcome__upsell",
    "survey__rating", "survey__nps",
)


def case_rows(first: dt.date, last: dt.date, filters: dict[str, str] | None = None) -> list[tuple[dict, CaseRow]]:
    """(dimensions, facts) of every case received from `first` to `last` (local days)."""
    start, end = day_bounds(first, last)
    cases = Case.objects.filter(received_at__gte=start, received_at__lt=end)
    for name, value in (filters or {}).items():
        cases = cases.filter(**{FILTER_FIELDS[name]: value})
    now = timezone.now()
    per_case_commitments = {
        row["case_id"]: row
        for row in Commitment.objects.filter(case__in=cases.values("id"))
        .values("case_id")
        .annotate(
            due=Count("id", filter=~Q(state=CommitmentState.OPEN) | Q(due_at__lt=now)),
            on_time=Count("id", filter=Q(state=CommitmentState.KEPT, closed_at__lte=F("due_at"))),
        )
    }
    per_case_yen = dict(
        Compensation.objects.filter(case__in=cases.values("id"), state=CompensationState.GRANTED)
        .values("case_id").annotate(total=Sum("amount_yen")).values_list("case_id", "total")
    )
    rows = []
    for v in cases.values(*VALUES).iterator(chunk_size=5000):
        commitments = per_case_commitments.get(v["id"], {})
        outcome = None
        if v["outcome__resolved"] is not None:
            outcome = {k: v[f"outcome__{k}"] for k in ("resolved", "cancelled", "refund_asked", "kept", "upsell")}
        reopen = v["sla__reopen_count"] or 0
        row = CaseRow(
            channel=v["channel"],
            assignee_id=v["assignee_id"],
            first_wall_seconds=v["sla__first_wall_seconds"],
            first_business_seconds=v["sla__first_business_seconds"],
            resolution_business_seconds=v["sla__resolution_business_seconds"],
            # Resolution seconds are set exactly while the case is resolved (sla.on_status).
            ever_resolved=v["sla__resolution_business_seconds"] is not None or reopen > 0,
            reopen_count=reopen,
            sla_due=v["sla__targets_due"] or 0,
            sla_met=v["sla__targets_met"] or 0,
            outcome=outcome,
            rating=v["survey__rating"],
            nps=v["survey__nps"],
            commitments_due=commitments.get("due", 0),
            commitments_on_time=commitments.get("on_time", 0),
            compensation_yen=per_case_yen.get(v["id"], 0) or 0,
        )
        dims = {"team": v["team_id"], "agent": v["assignee_id"], "channel": v["channel"], "category": v["category_id"]}
        rows.append((dims, row))
    return rows


# --- rebuilding -------------------------------------------------------------------------------------


def _grouped(rows: Iterable[tuple[dict, CaseRow]]) -> dict[tuple[str, str], list[CaseRow]]:
    groups: dict[tuple[str, str], list[CaseRow]] = defaultdict(list)
    for dims, row in rows:
        groups[("all", "")].append(row)
        for dim in DIMS:
            if dims[dim] is not None:
                groups[(dim, str(dims[dim]))].append(row)
    return groups


@transaction.atomic
def rebuild_day(day: dt.date, month: bool = True) -> None:
    """Rebuild the day's rows from its cases, then (unless a caller rebuilding many days
    does it once at the end) the month's rows from its days."""
    groups = _grouped(case_rows(day, day))
    DailyRollup.objects.filter(grain="d", day=day).delete()
    DailyRollup.objects.bulk_create(
        [DailyRollup(grain="d", day=day, dim=dim, value=value, figures=figures_of(rows).to_json())
         for (dim, value), rows in groups.items()]
    )
    if month:
        rebuild_month(day.replace(day=1))


def rebuild_month(month: dt.date) -> None:
    following = (month + dt.timedelta(days=32)).replace(day=1)
    sums: dict[tuple[str, str], Figures] = defaultdict(Figures)
    for dim, value, figures in DailyRollup.objects.filter(
        grain="d", day__gte=month, day__lt=following
    ).values_list("dim", "value", "figures"):
        sums[(dim, value)].add_json(figures)
    DailyRollup.objects.filter(grain="m", day=month).delete()
    DailyRollup.objects.bulk_create(
        [DailyRollup(grain="m", day=month, dim=dim, value=value, figures=f.to_json()) for (dim, value), f in sums.items()]
    )


def refresh_dirty(limit: int | None = None) -> int:
    """Rebuild dirty days, oldest first. A day marked again while it was being rebuilt
    stays dirty for the next run."""
    done = 0
    for dirty in DirtyDay.objects.order_by("day")[:limit]:
        rebuild_day(dirty.day)
        DirtyDay.objects.filter(day=dirty.day, marked_at__lte=dirty.marked_at).delete()
        done += 1
    return done


# --- reading a period -------------------------------------------------------------------------------


def _split(first: dt.date, last: dt.date) -> tuple[list[dt.date], list[dt.date]]:
    """Whole months inside [first, last], and the days outside them."""
    months, days = [], []
    day = first
    while day <= last:
        following = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        if day.day == 1 and following - dt.timedelta(days=1) <= last:
            months.append(day)
            day = following
        else:
            days.append(day)
            day += dt.timedelta(days=1)
    return months, days


def period_rows(
    first: dt.date, last: dt.date, dims: Iterable[str], value: str | None = None
) -> list[tuple[str, str, dt.date, dict]]:
    """(dim, value, day-or-month, figures) rows covering the period exactly."""
    months, days = _split(first, last)
    rows = DailyRollup.objects.filter(dim__in=list(dims))
    if value is not None:
        rows = rows.filter(value=value)
    rows = rows.filter(
        Q(grain="m", day__in=months) | Q(grain="d", day__gte=first, day__lte=last, day__in=days)
    ).values_list("dim", "value", "day", "figures")
    return list(rows)  # figures stay JSON dicts: Figures.add_json reads them without copying


def period_figures(first: dt.date, last: dt.date, filters: dict[str, str]) -> Figures:
    """All figures of the period for the filter: from rollups when at most one filter is
    set, else computed from the cases themselves (slower, exact same definitions)."""
    total = Figures()
    if len(filters) > 1:
        total.add(figures_of([row for _, row in case_rows(first, last, filters)]))
        return total
    dim, value = next(iter(filters.items())) if filters else ("all", "")
    for _dim, _value, _day, figures in period_rows(first, last, [dim], str(value)):
        total.add_json(figures)
    return total
