"""Dashboard over a year of cases: server time p50/p95 on SQLite or PostgreSQL.

    MADOGUCHI_DATA_DIR=/tmp/bench-metrics-sqlite .venv/bin/python bench/dashboard_bench.py --cases 1000000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_metrics MADOGUCHI_DATA_DIR=/tmp/bench-metrics-pg \
        .venv/bin/python bench/dashboard_bench.py --cases 1000000

Fills its own database (never the desk's) with cases spread over 365 days, their SLA
clocks, outcomes and surveys, builds the daily/monthly rollups once (as the minute job
would have, day by day), then times: the dashboard page through Django's test client
(full server time: rollup read, figures, pygal charts, template), a single-day rebuild
(the work the minute job does when a case of that day changes, i.e. the staleness bound),
and the live path for a two-filter query. Bounded in count and time; stops by itself.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import secrets
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
os.environ.setdefault("MADOGUCHI_DATA_DIR", "/tmp/bench-metrics-sqlite")
os.environ.setdefault("MADOGUCHI_TASKS_IMMEDIATE", "true")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from madoguchi.accounts.models import Role, Team, User  # noqa: E402
from madoguchi.cases.models import Case, Category  # noqa: E402
from madoguchi.customers.models import Customer  # noqa: E402
from madoguchi.metrics import rollup  # noqa: E402
from madoguchi.metrics.models import CaseSla, DailyRollup, DirtyDay, Outcome, Survey  # noqa: E402

BATCH = 5000
CHANNELS = ["email"] * 5 + ["chat"] * 4 + ["phone"] * 2 + ["form", "line"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def fill(n: int, first: dt.date, seed: int = 7) -> None:
    rnd = random.Random(seed)
    teams = [Team.objects.get_or_create(name=f"ベンチ{t}課")[0] for t in range(5)]
    agents = []
    for i in range(50):
        user, _ = User.objects.get_or_create(username=f"bench{i}", defaults={"role": Role.AGENT, "team": teams[i % 5]})
        agents.append(user)
    lead, _ = User.objects.get_or_create(username="benchlead", defaults={"role": Role.ADMIN})
    lead.set_password("bench-pass-2026")
    lead.save()
    categories = list(Category.objects.all())
    customers = Customer.objects.bulk_create([Customer(name=f"顧客{i}") for i in range(max(1, n // 50))])
    start = dt.datetime.combine(first, dt.time(), rollup.tz())
    made = 0
    t0 = time.monotonic()
    while made < n:
        size = min(BATCH, n - made)
        cases = []
        for _ in range(size):
            agent = rnd.choice(agents)
            received = start + dt.timedelta(seconds=rnd.randrange(365 * 86400))
            resolved = rnd.random() < 0.85
            cases.append(Case(
                subject="ベンチ", channel=rnd.choice(CHANNELS), category=rnd.choice(categories),
                priority=rnd.choice([1, 2, 2, 2, 3, 4]), status="resolved" if resolved else "open",
                assignee=agent, team=agent.team, customer=rnd.choice(customers), received_at=received,
                resolved_at=received + dt.timedelta(hours=rnd.randrange(1, 200)) if resolved else None,
            ))
        cases = Case.objects.bulk_create(cases, batch_size=BATCH)
        slas, outcomes, surveys = [], [], []
        for case in cases:
            wall = int(rnd.lognormvariate(4.5, 1.2))
            slas.append(CaseSla(
                case=case, first_done_at=case.received_at + dt.timedelta(seconds=wall), first_wall_seconds=wall,
                first_business_seconds=int(wall * 0.6), resolved_at=case.resolved_at,
                resolution_business_seconds=rnd.randrange(600, 200000) if case.resolved_at else None,
                reopen_count=1 if rnd.random() < 0.05 else 0, targets_due=2, targets_met=rnd.choice([1, 2, 2, 2]),
            ))
            if case.resolved_at and rnd.random() < 0.6:
                outcomes.append(Outcome(case=case, resolved=rnd.random() < 0.9, cancelled=rnd.random() < 0.05,
                                        refund_asked=rnd.random() < 0.07, kept=rnd.random() < 0.03, upsell=rnd.random() < 0.02))
            if case.resolved_at and rnd.random() < 0.3:
                answered = rnd.random() < 0.7
                surveys.append(Survey(case=case, nonce=secrets.token_hex(12), sent_at=case.resolved_at,
                                      expires_at=case.resolved_at + dt.timedelta(days=14),
                                      answered_at=case.resolved_at if answered else None,
                                      rating=rnd.choice([1, 2, 3, 4, 4, 5, 5, 5]) if answered else None,
                                      nps=rnd.randrange(11) if answered else None))
        CaseSla.objects.bulk_create(slas, batch_size=BATCH)
        Outcome.objects.bulk_create(outcomes, batch_size=BATCH)
        Survey.objects.bulk_create(surveys, batch_size=BATCH)
        made += size
        if made % 100000 == 0 or made == n:
            print(f"  filled {made:,} cases ({time.monotonic() - t0:.0f} s)", flush=True)


def build_rollups(first: dt.date) -> list[float]:
    timings = []
    for offset in range(365):
        t = time.perf_counter()
        rollup.rebuild_day(first + dt.timedelta(days=offset))
        timings.append(time.perf_counter() - t)
    DirtyDay.objects.all().delete()
    return timings


def time_get(client: Client, url: str, runs: int) -> list[float]:
    client.get(url)  # warm caches
    timings = []
    for _ in range(runs):
        t = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - t)
        assert response.status_code == 200, response.status_code
    return timings


def show(name: str, timings: list[float]) -> None:
    print(f"{name:58s} p50 {statistics.median(timings) * 1000:8.1f} ms   p95 {percentile(timings, 0.95) * 1000:8.1f} ms"
          f"   (n={len(timings)})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="reuse the data of a previous run")
    args = parser.parse_args()
    first = dt.date(2025, 11, 23)
    last = first + dt.timedelta(days=364)
    print(f"database: {connection.vendor}; cases: {args.cases:,}", flush=True)
    call_command("migrate", verbosity=0)
    if not (args.keep and Case.objects.exists()):
        t = time.monotonic()
        fill(args.cases, first)
        print(f"fill: {time.monotonic() - t:.0f} s", flush=True)
        t = time.monotonic()
        day_timings = build_rollups(first)
        print(f"rollups for 365 days: {time.monotonic() - t:.0f} s; rows: {DailyRollup.objects.count():,}", flush=True)
        show("rebuild one day (minute job, per dirty day)", day_timings)
    client = Client(HTTP_HOST="127.0.0.1")
    assert client.login(username="benchlead", password="bench-pass-2026")
    agent = User.objects.get(username="bench3")
    year = f"/metrics/?start={first}&end={last}"
    show("dashboard page, full year, no filter", time_get(client, year, args.runs))
    show("dashboard page, full year, team filter", time_get(client, f"{year}&team={agent.team_id}", args.runs))
    show("dashboard page, full year, agent filter", time_get(client, f"{year}&agent={agent.pk}", args.runs))
    show("dashboard page, last 30 days, channel filter", time_get(
        client, f"/metrics/?start={last - dt.timedelta(days=29)}&end={last}&channel=chat", args.runs))
    show("dashboard page, 30 days, team+channel (live path, no rollup)", time_get(
        client, f"/metrics/?start={last - dt.timedelta(days=29)}&end={last}&team={agent.team_id}&channel=chat",
        max(3, args.runs // 3)))
    show("breakdown table by agent (htmx fragment), full year", time_get(client, f"/metrics/breakdown/agent/{year[9:]}", args.runs))
    show("breakdown table by team (htmx fragment), full year", time_get(client, f"/metrics/breakdown/team/{year[9:]}", args.runs))
    show("CSV export summary, full year", time_get(client, f"{year}&format=csv&table=summary", args.runs))


if __name__ == "__main__":
    main()
