"""Incremental rollups behind the dashboard: always fresh within a minute, never a nightly batch.

The figures of the cases received on a local day are kept in `Cell` rows, one per
combination that a view can ask for: the desk ("all"), each team, agent, channel and
category on its own, and each (team, agent, channel, category) cell. A month has the same
rows, equal to the sum of its days. Every figure is additive (counts, sums, duration
histograms), so a period is read exactly as whole months plus the days at its edges, and
any combination of filters as the matching rows of one kind:

- no filter: the "all" rows (about 40 for a year);
- one filter: that dimension's rows for the value;
- two or more filters: the "cell" rows that match every filter;
- a breakdown by a dimension: that dimension's rows grouped by value (with filters: the
  matching cells grouped by the dimension).

Every write that changes a case's figures marks the case's received day dirty
(`mark_dirty`); the minute job (tasks.py) — and the dashboard itself, for one day —
rebuilds a dirty day: the day's figures are computed again from its cases
(definitions.figures_of), only the rows that differ are written, and the month's rows
for those combinations are corrected by the difference.
"""

from __future__ import annotations

import datetime as dt
import sys
from array import array
from collections import defaultdict
from collections.abc import Iterable
from itertools import chain
from operator import add
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from madoguchi.cases.models import (
    Case,
    Commitment,
    CommitmentState,
    Compensation,
    CompensationState,
)
from madoguchi.metrics.definitions import HISTOGRAMS, SCALARS, CaseRow, Figures, figures_of
from madoguchi.metrics.models import Cell, DirtyDay

DIMS = ("team", "agent", "channel", "category")
FILTER_FIELDS = {"team": "team_id", "agent": "assignee_id", "channel": "channel", "category": "category_id"}
COLUMNS = (*SCALARS, *HISTOGRAMS)
Key = tuple[str, int, int, str, int]  # kind, team, agent, channel, category
ALL: Key = ("all", 0, 0, "", 0)


def tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_day(at: dt.datetime) -> dt.date:
    return at.astimezone(tz()).date()


def day_bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start of `first`, start of the day after `last`) as aware datetimes."""
    start = dt.datetime.combine(first, dt.time(), tz())
    return start, dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tz())


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def mark_dirty(*moments: dt.datetime | None) -> None:
    now = timezone.now()
    days = {local_day(m) for m in moments if m is not None}
    DirtyDay.objects.bulk_create(
        [DirtyDay(day=day, marked_at=now) for day in days],
        update_conflicts=True, unique_fields=["day"], update_fields=["marked_at"],
    )


# --- histograms packed in a row ------------------------------------------------------------------


def pack(hist: dict[str, int]) -> bytes:
    """A duration histogram as int32 pairs (bucket seconds, count), ascending, little-endian."""
    return pack_ints({int(k): v for k, v in hist.items()})


def pack_ints(hist: dict[int, int]) -> bytes:
    packed = array("i", chain.from_iterable(sorted(item for item in hist.items() if item[1])))
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()


def add_packed(total: dict[int, int], blob: bytes | memoryview | None) -> None:
    """Add a packed histogram to `total` (bucket seconds → count)."""
    if not blob:
        return
    packed = array("i")
    packed.frombytes(blob)
    if sys.byteorder == "big":
        packed.byteswap()
    get = total.get
    for key, count in zip(packed[::2], packed[1::2], strict=True):
        total[key] = get(key, 0) + count


class Sum_:
    """Figures being added up from rows: scalars added as they come, packed histograms kept
    and decoded once at the end (one pass over all their pairs)."""

    __slots__ = ("scalars", "blobs", "extra")

    def __init__(self) -> None:
        self.scalars = [0] * len(SCALARS)
        self.blobs: tuple[list, ...] = tuple([] for _ in HISTOGRAMS)
        self.extra: tuple[dict[int, int], ...] = tuple({} for _ in HISTOGRAMS)

    def add_row(self, values: tuple) -> None:
        """`values` are a row's COLUMNS in order."""
        self.scalars = list(map(add, self.scalars, values[:len(SCALARS)]))
        for blobs, blob in zip(self.blobs, values[len(SCALARS):], strict=True):
            if blob:
                blobs.append(blob)

    def hists(self) -> list[dict[int, int]]:
        result = []
        for blobs, extra in zip(self.blobs, self.extra, strict=True):
            total = dict(extra)
            add_packed(total, b"".join(blobs))
            result.append(total)
        return result

    def columns(self) -> tuple:
        """The sum as a row's COLUMNS."""
        return (*self.scalars, *(pack_ints(hist) for hist in self.hists()))

    def figures(self, agents: Iterable[int] = ()) -> Figures:
        # SCALARS names only the integer fields of Figures.
        f = Figures(**{name: int(value) for name, value in zip(SCALARS, self.scalars, strict=True)})  # type: ignore[arg-type]
        for name, hist in zip(HISTOGRAMS, self.hists(), strict=True):
            setattr(f, name, {str(k): v for k, v in sorted(hist.items()) if v})
        f.agents = sorted(agents)
        return f


def record(f: Figures) -> tuple:
    """A Figures as the COLUMNS of a row (what is compared and written)."""
    return (*(getattr(f, name) for name in SCALARS), *(pack(getattr(f, name)) for name in HISTOGRAMS))


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
    # Plain tuples straight from the cursor: the ORM's per-value converters cost more than
    # the query for a day of cases, and the measures only read ints, flags and the channel.
    sql, params = cases.values_list(*VALUES).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    for values in fetched:
        v = dict(zip(VALUES, values, strict=True))
        commitments: Any = per_case_commitments.get(v["id"], {})
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


def live_figures(first: dt.date, last: dt.date, filters: dict[str, str]) -> Figures:
    """The figures computed from the cases themselves (what the rollups must equal)."""
    return figures_of([row for _, row in case_rows(first, last, filters)])


def cell_of(dims: dict) -> Key:
    """The (team, agent, channel, category) cell of a case; 0/"" where it has none."""
    return ("cell", dims["team"] or 0, dims["agent"] or 0, dims["channel"] or "", dims["category"] or 0)


def wider(cell: Key) -> list[Key]:
    """The other rows a cell's cases count in: the desk and each dimension the cell has."""
    _kind, team, agent, channel, category = cell
    keys: list[Key] = [ALL]
    if team:
        keys.append(("team", team, 0, "", 0))
    if agent:
        keys.append(("agent", 0, agent, "", 0))
    if channel:
        keys.append(("channel", 0, 0, channel, 0))
    if category:
        keys.append(("category", 0, 0, "", category))
    return keys


# --- rebuilding -------------------------------------------------------------------------------------

KEY_FIELDS = ("kind", "team", "agent", "channel", "category")


def day_records(day: dt.date) -> dict[Key, tuple]:
    """What the rows of the day must hold: each cell's figures computed from its cases
    (definitions.figures_of), every wider row the sum of its cells."""
    cells: dict[Key, list[CaseRow]] = defaultdict(list)
    for dims, row in case_rows(day, day):
        cells[cell_of(dims)].append(row)
    records: dict[Key, tuple] = {}
    sums: dict[Key, Sum_] = defaultdict(Sum_)
    for cell, rows in cells.items():
        columns = records[cell] = record(figures_of(rows))
        for key in wider(cell):
            sums[key].add_row(columns)
    for key, total in sums.items():
        records[key] = total.columns()
    return records


def _stored(grain: str, day: dt.date, keys: Iterable[Key] | None = None) -> dict[Key, tuple[int, tuple]]:
    """The stored rows of a block: key → (id, COLUMNS); only `keys` when given (few)."""
    rows = Cell.objects.filter(grain=grain, day=day)
    if keys is not None:
        wanted = Q(pk__in=[])
        for key in keys:
            wanted |= Q(**dict(zip(KEY_FIELDS, key, strict=True)))
        rows = rows.filter(wanted)
    result = {}
    for values in rows.values_list("id", *KEY_FIELDS, *COLUMNS):
        blobs = tuple(bytes(b) for b in values[6 + len(SCALARS):])
        result[values[1:6]] = (values[0], (*values[6:6 + len(SCALARS)], *blobs))
    return result


def _insert(rows: list[tuple[str, dt.date, Key, tuple]]) -> None:
    """Write rows (grain, day, key, COLUMNS): COPY on PostgreSQL, one executemany on SQLite.
    Thousands of rows of a day take milliseconds this way, not the second that model
    instances would."""
    if not rows:
        return
    fields = ("grain", "day", *KEY_FIELDS, *COLUMNS)
    table = Cell._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({', '.join(fields)}) FROM STDIN") as copy:
                for grain, day, key, columns in rows:
                    copy.write_row((grain, day, *key, *columns))
            return
        adapt = connection.ops.adapt_datefield_value
        cursor.executemany(
            f"INSERT INTO {table} ({', '.join(fields)}) VALUES ({', '.join(['%s'] * len(fields))})",
            [(grain, adapt(day), *key, *columns) for grain, day, key, columns in rows],
        )


def _delete(ids: list[int]) -> None:
    table = Cell._meta.db_table
    with connection.cursor() as cursor:
        for i in range(0, len(ids), 5000):
            chunk = ids[i:i + 5000]
            cursor.execute(f"DELETE FROM {table} WHERE id IN ({', '.join(['%s'] * len(chunk))})", chunk)


def _lock() -> None:
    """One rebuild at a time: month rows are corrected by differences, which two rebuilds
    running at once would apply twice. SQLite transactions here begin IMMEDIATE (settings),
    which already serialises writers; PostgreSQL takes a transaction-scoped advisory lock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [0x6D6574726963])


def _difference(new: tuple, old: tuple | None, sign: int) -> tuple[list[int], list[dict[int, int]]]:
    scalars = [sign * v for v in new[:len(SCALARS)]]
    hists: list[dict[int, int]] = [{} for _ in HISTOGRAMS]
    for hist, blob in zip(hists, new[len(SCALARS):], strict=True):
        add_packed(hist, blob)
        if sign < 0:
            for k in hist:
                hist[k] = -hist[k]
    if old is not None:
        for i, v in enumerate(old[:len(SCALARS)]):
            scalars[i] -= sign * v
        for hist, blob in zip(hists, old[len(SCALARS):], strict=True):
            before: dict[int, int] = {}
            add_packed(before, blob)
            for k, v in before.items():
                hist[k] = hist.get(k, 0) - sign * v
    return scalars, hists


def _apply(columns: tuple | None, scalars: list[int], hists: list[dict[int, int]]) -> tuple | None:
    """`columns` (or nothing) plus a difference; None when nothing is left."""
    total = Sum_()
    if columns is not None:
        total.add_row(columns)
    total.scalars = [a + b for a, b in zip(total.scalars, scalars, strict=True)]
    for mine, delta in zip(total.extra, hists, strict=True):
        mine.update(delta)
    if not any(total.scalars):
        return None
    return total.columns()


FEW_KEYS = 50  # up to this many changed combinations, read only their month rows


@transaction.atomic
def rebuild_day(day: dt.date, month: bool = True) -> int:
    """Compute the day's rows again from its cases and write those that changed; correct the
    month's rows by the same differences (unless a caller building many days sums the months
    once at the end with rebuild_month). Returns the number of rows that changed."""
    _lock()
    new = day_records(day)
    old = _stored("d", day)
    changed = [key for key in new.keys() | old.keys() if new.get(key) != (old[key][1] if key in old else None)]
    if not changed:
        return 0
    _delete([old[key][0] for key in changed if key in old])
    _insert([("d", day, key, new[key]) for key in changed if key in new])
    if month:
        first = month_of(day)
        stored = _stored("m", first, changed if len(changed) <= FEW_KEYS else None)
        gone, fresh = [], []
        for key in changed:
            before = old[key][1] if key in old else None
            if key in new:
                scalars, hists = _difference(new[key], before, 1)
            else:
                assert before is not None  # a changed key is in the new rows or in the old
                scalars, hists = _difference(before, None, -1)
            current = stored.get(key)
            result = _apply(current[1] if current else None, scalars, hists)
            if current:
                gone.append(current[0])
            if result is not None:
                fresh.append(("m", first, key, result))
        _delete(gone)
        _insert(fresh)
    return len(changed)


def rebuild_month(month: dt.date) -> None:
    """The month's rows summed again from its days (after building many days at once)."""
    first = month_of(month)
    sums: dict[Key, Sum_] = defaultdict(Sum_)
    rows = Cell.objects.filter(grain="d", day__gte=first, day__lt=next_month(first))
    for values in rows.values_list(*KEY_FIELDS, *COLUMNS).iterator(chunk_size=5000):
        sums[values[:5]].add_row(values[5:])
    with transaction.atomic():
        _lock()
        Cell.objects.filter(grain="m", day=first)._raw_delete(connection.alias)
        _insert([("m", first, key, s.columns()) for key, s in sums.items()])


def rebuild_all(first: dt.date | None = None, last: dt.date | None = None) -> int:
    """Every day from `first` to `last` (default: the first to the last case) computed again
    from its cases, then each of their months summed from its days; their dirty marks go.
    For after a deploy that changed the rollup, or a bulk import. Returns the days done."""
    from django.db.models import Max, Min

    if first is None or last is None:
        span = Case.objects.aggregate(first=Min("received_at"), last=Max("received_at"))
        if span["first"] is None:
            return 0
        first = first or local_day(span["first"])
        last = last or local_day(span["last"])
    day, days = first, 0
    while day <= last:
        rebuild_day(day, month=False)
        day += dt.timedelta(days=1)
        days += 1
    month = month_of(first)
    while month <= last:
        rebuild_month(month)
        month = next_month(month)
    DirtyDay.objects.filter(day__gte=first, day__lte=last).delete()
    return days


def refresh_dirty(limit: int | None = None, first: dt.date | None = None, last: dt.date | None = None) -> int:
    """Rebuild dirty days (only those from `first` to `last` when given), oldest first.
    A day marked again while it was being rebuilt stays dirty for the next run."""
    done = 0
    dirty_days = DirtyDay.objects.order_by("day")
    if first and last:
        dirty_days = dirty_days.filter(day__gte=first, day__lte=last)
    for dirty in dirty_days[:limit]:
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
        following = next_month(day)
        if day.day == 1 and following - dt.timedelta(days=1) <= last:
            months.append(day)
            day = following
        else:
            days.append(day)
            day += dt.timedelta(days=1)
    return months, days


def _blocks(first: dt.date, last: dt.date, per_day: bool = False) -> Q:
    """The rows covering [first, last] exactly: whole months and edge days (or every day)."""
    if per_day:
        return Q(grain="d", day__gte=first, day__lte=last)
    months, days = _split(first, last)
    blocks = Q(pk__in=[])
    if months:
        blocks |= Q(grain="m", day__in=months)
    if days:
        blocks |= Q(grain="d", day__in=days)
    return blocks


def _match(filters: dict[str, str]) -> tuple[str, dict]:
    """The kind of row that answers `filters`, and the conditions on it."""
    def value(name: str, raw: str) -> int | str:
        if name == "channel":
            return str(raw)
        return int(raw) if str(raw).isdigit() and int(raw) > 0 else -1  # -1: no case has it

    conditions = {name: value(name, raw) for name, raw in filters.items()}
    if not conditions:
        return "all", {}
    if len(conditions) == 1:
        return next(iter(conditions)), conditions
    return "cell", conditions


def grouped(first: dt.date, last: dt.date, filters: dict[str, str], by: str | None = None,
            per_day: bool = False) -> dict[object, Sum_]:
    """The figures of the period for `filters`, added up per value of `by` (a dimension,
    or "day" for the trend: the day or month of each row), or all together (key None)."""
    kind, conditions = _match(filters)
    if by in DIMS and kind != "cell" and not conditions:
        kind = by  # a whole-desk breakdown reads the dimension's own rows
    elif by in DIMS and (kind != by or len(conditions) > 1):
        kind = "cell"  # a breakdown under filters groups the matching cells
    rows = Cell.objects.filter(_blocks(first, last, per_day), kind=kind, **conditions)
    if by in DIMS:
        rows = rows.exclude(**{by: 0 if by != "channel" else ""})  # cases without it are in no row
    field = by or "kind"
    sums: dict[object, Sum_] = defaultdict(Sum_)
    for values in rows.values_list(field, *COLUMNS).iterator(chunk_size=5000):
        sums[values[0] if by else None].add_row(values[1:])
    return sums


def agents_of(first: dt.date, last: dt.date, filters: dict[str, str]) -> list[int]:
    """The distinct assignees of the period's cases under `filters` (for cases per agent)."""
    kind, conditions = _match(filters)
    if kind == "all":
        rows = Cell.objects.filter(_blocks(first, last), kind="agent", assigned_cases__gt=0)
    else:
        rows = Cell.objects.filter(_blocks(first, last), kind="cell", agent__gt=0, assigned_cases__gt=0,
                                   **conditions)
    return sorted(set(rows.values_list("agent", flat=True)))


def period_figures(first: dt.date, last: dt.date, filters: dict[str, str]) -> Figures:
    """All figures of the period for the filters, read from the rollup rows."""
    total = grouped(first, last, filters).get(None) or Sum_()
    return total.figures(agents_of(first, last, filters) if total.scalars[SCALARS.index("assigned_cases")] else ())
