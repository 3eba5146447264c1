"""Dashboard over a year of cases: server time p50/p95 on SQLite or PostgreSQL.

    MADOGUCHI_DATA_DIR=/tmp/bench-metrics-sqlite .venv/bin/python bench/dashboard_bench.py --cases 1000000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_metrics MADOGUCHI_DATA_DIR=/tmp/bench-metrics-pg \
        .venv/bin/python bench/dashboard_bench.py --cases 1000000

Fills its own database (never the desk's) with cases spread over 365 days, their SLA
clocks, outcomes and surveys, builds the rollup rows once (as the minute job would have,
day by day), then times: the rebuild of a dirty day (the minute job's work, i.e. the
staleness bound) with one case / every case / no case changed; the dashboard page through
Django's test client (full server time: rollup read, figures, SVG charts, template) for a
year and 30 days with no filter, each single filter, every pair and triple that matters and
all four; every breakdown fragment on a cold cache, with and without filters; CSV exports.
`--only rebuild,pages,filters,breakdowns,csv` picks groups. Bounded; stops by itself.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
os.environ.setdefault("MADOGUCHI_DATA_DIR", "/tmp/bench-metrics-sqlite")
os.environ.setdefault("MADOGUCHI_TASKS_IMMEDIATE", "true")

import django  # noqa: E402
import django.utils.timezone  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from madoguchi.accounts.models import Role, Team, User  # noqa: E402
from madoguchi.cases.models import Case, Category  # noqa: E402
from madoguchi.customers.models import Customer  # noqa: E402
from madoguchi.metrics import rollup  # noqa: E402
from madoguchi.metrics.models import Cell, DirtyDay  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _case_when(expr: str, values: list) -> str:
    whens = " ".join(f"WHEN {i} THEN {v!r}" if isinstance(v, str) else f"WHEN {i} THEN {v}" for i, v in enumerate(values))
    return f"CASE {expr} {whens} END"


def _plus_seconds(column: str, seconds: str) -> str:
    if connection.vendor == "sqlite":
        return f"datetime({column}, '+' || ({seconds}) || ' seconds')"
    return f"({column} + ({seconds}) * INTERVAL '1 second')"


def fill(n: int, first: dt.date) -> None:
    """Cases spread evenly over 365 days, generated inside the database (INSERT … SELECT over
    a number series) so a million rows take minutes, not an hour of Python objects."""
    teams = [Team.objects.get_or_create(name=f"ベンチ{t}課")[0] for t in range(5)]
    agents = []
    for i in range(50):
        user, _ = User.objects.get_or_create(username=f"bench{i}", defaults={"role": Role.AGENT, "team": teams[i % 5]})
        agents.append(user)
    lead, _ = User.objects.get_or_create(username="benchlead", defaults={"role": Role.ADMIN})
    lead.set_password("bench-pass-2026")
    lead.save()
    categories = [c.pk for c in Category.objects.all()]
    customers = Customer.objects.bulk_create([Customer(name=f"顧客{i}") for i in range(2000)])
    low = min(c.pk for c in customers)
    start = dt.datetime.combine(first, dt.time(), rollup.tz()).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    if connection.vendor == "sqlite":
        series, origin = f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) ", f"'{start}'"
        source = "s"
    else:
        series, origin, source = "", f"TIMESTAMPTZ '{start}+00'", f"generate_series(CAST(1 AS BIGINT), {n}) AS s(i)"
    received = _plus_seconds(origin, f"CAST(i AS BIGINT) * 31535999 / {n}")
    channel = _case_when("i % 13", ["email"] * 5 + ["chat"] * 4 + ["phone"] * 2 + ["form", "line"])
    agent = _case_when("(i * 7) % 50", [a.pk for a in agents])
    team = _case_when("(i * 7) % 50", [a.team_id for a in agents])
    category = _case_when(f"i % {len(categories)}", categories)
    resolved = f"CASE WHEN i % 20 < 17 THEN {_plus_seconds(received, '(i * 7919) % 720000 + 3600')} END"
    with connection.cursor() as cursor:
        t = time.monotonic()
        cursor.execute(
            f"INSERT INTO cases_case (subject, channel, category_id, priority, status, assignee_id, team_id, customer_id, "
            f"received_at, created_at, updated_at, resolved_at, complaint, solution, landing_point, fact_order_number, "
            f"fact_product, fact_what_happened, fact_when, checklist, version) {series}"
            f"SELECT 'ベンチ', {channel}, {category}, {_case_when('i % 6', [1, 2, 2, 2, 3, 4])}, "
            f"CASE WHEN i % 20 < 17 THEN 'resolved' ELSE 'open' END, {agent}, {team}, {low} + i % 2000, "
            f"{received}, {received}, {received}, {resolved}, '', '', '', '', '', '', '', '{{}}', 1 FROM {source}"
        )
        print(f"  cases: {time.monotonic() - t:.0f} s", flush=True)
        wall = "CASE WHEN id % 10 = 0 THEN (id * 7919) % 3000 + 300 ELSE (id * 7919) % 240 + 5 END"
        cursor.execute(
            "INSERT INTO metrics_casesla (case_id, paused_seconds, first_done_at, first_wall_seconds, "
            "first_business_seconds, next_paused_base, resolved_at, resolution_business_seconds, reopen_count, "
            "targets_due, targets_met, marks) "
            f"SELECT id, 0, received_at, {wall}, ({wall}) * 6 / 10, 0, resolved_at, "
            "CASE WHEN resolved_at IS NULL THEN NULL ELSE (id * 104729) % 200000 + 600 END, "
            "CASE WHEN id % 20 = 0 THEN 1 ELSE 0 END, 2, CASE WHEN id % 4 = 0 THEN 1 ELSE 2 END, '[]' "
            "FROM cases_case WHERE subject = 'ベンチ'"
        )
        cursor.execute(
            "INSERT INTO metrics_outcome (case_id, resolved, cancelled, refund_asked, kept, upsell, recorded_at) "
            "SELECT id, id % 10 <> 0, id % 20 = 1, id % 14 = 2, id % 33 = 3, id % 50 = 4, received_at "
            "FROM cases_case WHERE status = 'resolved' AND id % 5 < 3"
        )
        cursor.execute(
            "INSERT INTO metrics_survey (case_id, nonce, state, channel, sent_at, expires_at, answered_at, rating, nps, comment) "
            f"SELECT id, 'b' || id, 'sent', 'email', resolved_at, resolved_at, resolved_at, {_case_when('id % 8', [1, 2, 3, 4, 4, 5, 5, 5])}, "
            "id % 11, '' FROM cases_case WHERE status = 'resolved' AND id % 10 < 2"
        )
        print(f"  cases + SLA clocks + outcomes + surveys: {time.monotonic() - t:.0f} s", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def build_rollups(first: dt.date) -> None:
    """The initial build (what the minute job would have done day by day as cases came in):
    every day's rows, then each month summed once from its days (`rebuild_rollups`)."""
    Cell.objects.all().delete()
    rollup.rebuild_all(first, first + dt.timedelta(days=364))
    DirtyDay.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _day_cases(day: dt.date) -> str:
    start, end = rollup.day_bounds(day, day)
    fmt = "%Y-%m-%d %H:%M:%S"
    s, e = start.astimezone(dt.UTC).strftime(fmt), end.astimezone(dt.UTC).strftime(fmt)
    if connection.vendor == "postgresql":
        s, e = f"{s}+00", f"{e}+00"
    return f"SELECT id FROM cases_case WHERE received_at >= '{s}' AND received_at < '{e}'"


def time_day_rebuilds(first: dt.date, runs: int) -> dict[str, list[float]]:
    """A dirty day as the minute job handles it (the day's rows from its cases, only the
    rows that differ written, the month corrected by the difference), in three cases:
    one case of the day changed (the usual), every case of the day changed, nothing changed.
    Every change is undone by a second change, so the data stay as they were."""
    timings: dict[str, list[float]] = {"one": [], "all": [], "none": []}
    for offset in range(0, 365, max(1, 365 // runs))[:runs]:
        day = first + dt.timedelta(days=offset)
        for _undo in (False, True):
            with connection.cursor() as cursor:  # one case: its outcome's "kept" flips
                cursor.execute(f"UPDATE metrics_outcome SET kept = NOT kept WHERE case_id = "
                               f"(SELECT MIN(case_id) FROM metrics_outcome WHERE case_id IN ({_day_cases(day)}))")
            t = time.perf_counter()
            changed = rollup.rebuild_day(day)
            timings["one"].append(time.perf_counter() - t)
            assert changed, day
        for _undo in (False, True):
            with connection.cursor() as cursor:  # every case: SLA targets met ↔ missed
                cursor.execute(f"UPDATE metrics_casesla SET targets_met = targets_due - targets_met "
                               f"WHERE case_id IN ({_day_cases(day)})")
            t = time.perf_counter()
            rollup.rebuild_day(day)
            timings["all"].append(time.perf_counter() - t)
        t = time.perf_counter()
        assert rollup.rebuild_day(day) == 0
        timings["none"].append(time.perf_counter() - t)
    return timings


def time_get(client: Client, url: str, runs: int, cold: bool = False, dirty: dt.date | None = None) -> list[float]:
    client.get(url)  # warm caches
    timings = []
    for _ in range(runs):
        if cold:
            cache.clear()
        if dirty:
            DirtyDay.objects.update_or_create(day=dirty, defaults={"marked_at": django.utils.timezone.now()})
        t = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - t)
        assert response.status_code == 200, response.status_code
    return timings


def show(name: str, timings: list[float]) -> None:
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    print(f"{name:64s} p50 {statistics.median(timings) * 1000:8.1f} ms   p95 {percentile(timings, 0.95) * 1000:8.1f} ms"
          f"   (n={len(timings)}, load {load})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--keep", action="store_true", help="reuse the data of a previous run")
    parser.add_argument("--rebuild", action="store_true", help="with --keep: rebuild the rollups anyway")
    parser.add_argument("--only", default="", help="comma-separated groups: rebuild,pages,filters,breakdowns,csv")
    args = parser.parse_args()
    groups = set(args.only.split(",")) if args.only else {"rebuild", "pages", "filters", "breakdowns", "csv"}
    first = dt.date(2025, 11, 23)
    last = first + dt.timedelta(days=364)
    import subprocess

    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent).stdout.strip()
    print(f"database: {connection.vendor}; cases: {args.cases:,}; commit {head}; "
          f"load {Path('/proc/loadavg').read_text().strip()}", flush=True)
    call_command("migrate", verbosity=0)
    fresh = not (args.keep and Case.objects.exists())
    if fresh:
        t = time.monotonic()
        fill(args.cases, first)
        print(f"fill: {time.monotonic() - t:.0f} s", flush=True)
    if fresh or args.rebuild or not Cell.objects.exists():
        t = time.monotonic()
        build_rollups(first)
        print(f"initial rollups for 365 days: {time.monotonic() - t:.0f} s; rows: {Cell.objects.count():,}", flush=True)
    if "rebuild" in groups:
        rebuilds = time_day_rebuilds(first, max(3, args.runs // 2))
        show("rebuild a dirty day, one case changed (minute job)", rebuilds["one"])
        show("rebuild a dirty day, every case of the day changed", rebuilds["all"])
        show("rebuild a dirty day, nothing changed", rebuilds["none"])
    client = Client(HTTP_HOST="127.0.0.1")
    assert client.login(username="benchlead", password="bench-pass-2026")
    agent = User.objects.get(username="bench3")
    team, chat, cat = agent.team_id, "chat", Category.objects.order_by("pk").first().pk
    year = f"start={first}&end={last}"
    month = f"start={last - dt.timedelta(days=29)}&end={last}"
    runs = args.runs
    if "pages" in groups:
        for label, period in (("full year", year), ("last 30 days", month)):
            show(f"page, {label}, no filter", time_get(client, f"/metrics/?{period}", runs))
            for name, value in (("team", team), ("agent", agent.pk), ("channel", chat), ("category", cat)):
                show(f"page, {label}, {name}", time_get(client, f"/metrics/?{period}&{name}={value}", runs))
        show("page, full year, no filter, a dirty day rebuilt first", time_get(client, f"/metrics/?{year}", runs, dirty=last))
    if "filters" in groups:
        combos = {
            "team+channel": f"team={team}&channel={chat}", "team+category": f"team={team}&category={cat}",
            "agent+channel": f"agent={agent.pk}&channel={chat}", "channel+category": f"channel={chat}&category={cat}",
            "team+agent": f"team={team}&agent={agent.pk}",
            "team+channel+category": f"team={team}&channel={chat}&category={cat}",
            "agent+channel+category": f"agent={agent.pk}&channel={chat}&category={cat}",
            "all four": f"team={team}&agent={agent.pk}&channel={chat}&category={cat}",
        }
        for label, period in (("full year", year), ("last 30 days", month)):
            for name, query in combos.items():
                show(f"page, {label}, {name}", time_get(client, f"/metrics/?{period}&{query}", runs))
    if "breakdowns" in groups:
        for dim in ("team", "agent", "channel", "category"):
            url = f"/metrics/breakdown/{dim}/?{year}"
            show(f"breakdown by {dim}, full year, cold cache", time_get(client, url, runs, cold=True))
        show("breakdown by agent, full year, cached", time_get(client, f"/metrics/breakdown/agent/?{year}", runs))
        for name, query in (("channel", f"channel={chat}"), ("team+channel", f"team={team}&channel={chat}")):
            for dim in ("agent", "category"):
                url = f"/metrics/breakdown/{dim}/?{year}&{query}"
                show(f"breakdown by {dim} under {name}, full year, cold", time_get(client, url, runs, cold=True))
    if "csv" in groups:
        for table in ("summary", "trend", "agent", "category"):
            show(f"CSV {table}, full year, cold cache",
                 time_get(client, f"/metrics/?{year}&format=csv&table={table}", runs, cold=True))
        show("CSV agent, full year, team+channel, cold",
             time_get(client, f"/metrics/?{year}&team={team}&channel={chat}&format=csv&table=agent", runs, cold=True))


if __name__ == "__main__":
    main()
