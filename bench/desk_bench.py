"""Benchmark of the case desk at a million cases (issue 2, "Benchmark"; figures in docs/benchmarks.md).

Measures server time — the full response through Django's test Client, templates included,
logged in as an agent with a team — of every inbox queue (first page, and a deep page reached
with the keyset cursor of a row far into the queue) and of case pages with 50 interactions.
Requests are interleaved in rounds; the first rounds are discarded as warm-up; p50 and p95
are over all remaining requests. It also counts the SQL queries of each page, to show the
count does not grow with the data.

    .venv/bin/python bench/desk_bench.py --db sqlite --size 1000000 --generate
    .venv/bin/python bench/desk_bench.py --db postgres --size 1000000 --generate
    .venv/bin/python bench/desk_bench.py --db sqlite --size 10000 --generate   # quick run

At --size 1000000 the data lives in /tmp/bench-desk/madoguchi.sqlite3 or the PostgreSQL
database bench_desk; other sizes get /tmp/bench-desk-<size>/ and bench_desk_<size>.
Without --generate it measures the database that is already there.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
FULL_SIZE = 1_000_000
DEEP_ROW = 500_000  # the deep page starts after this row, or at 90% of a shorter queue
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
CASE_PAGES = 10  # distinct cases with 50 interactions, requested in every round


def targets(db: str, size: int) -> tuple[Path, str]:
    suffix = "" if size == FULL_SIZE else f"-{size}"
    data_dir = Path(f"/tmp/bench-desk{suffix}")
    if db == "sqlite":
        return data_dir, f"sqlite:///{data_dir / 'madoguchi.sqlite3'}"
    return data_dir, f"{PG_SERVER}/bench_desk{suffix.replace('-', '_')}"


def configure(db: str, size: int) -> tuple[Path, str]:
    data_dir, url = targets(db, size)
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["MADOGUCHI_DATA_DIR"] = str(data_dir)
    os.environ["DATABASE_URL"] = url
    os.environ["MADOGUCHI_ALLOWED_HOSTS"] = "testserver"
    os.environ["MADOGUCHI_LOG_LEVEL"] = "WARNING"
    # As `madoguchi serve` at scale runs: a connection per request, on PostgreSQL taken from
    # psycopg's pool (MADOGUCHI_DB_POOL), so no request pays for a new server connection.
    if db == "postgres":
        os.environ.setdefault("MADOGUCHI_DB_POOL", "true")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
    return data_dir, url


def reset_database(db: str, data_dir: Path, url: str) -> None:
    if db == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{data_dir / 'madoguchi.sqlite3'}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def build(db: str, size: int, data_dir: Path, url: str) -> dict[str, Any]:
    from django.core.management import call_command
    from generate_desk import PostgresLoader, SQLiteLoader, generate

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter() - started
    def make_loader() -> SQLiteLoader | PostgresLoader:
        return SQLiteLoader(str(data_dir / "madoguchi.sqlite3")) if db == "sqlite" else PostgresLoader(url)

    report = generate(size, make_loader, log=lambda line: print(f"  {line}", flush=True))
    total = time.perf_counter() - started
    print(f"generated in {total:.0f}s (migrate {migrated:.0f}s)", flush=True)
    return {"seconds": round(total, 1), "tables": {t: {"rows": r, "seconds": round(s, 1)} for t, (r, s) in report.items()}}


GENERATED_APPS = {"accounts", "customers", "shop", "cases", "knowledge", "metrics", "patterns", "progress", "auth", "contenttypes", "sessions",
                  "admin"}


def refresh_other_apps() -> None:
    """Recreate the (empty) tables of the apps the generator does not fill, then migrate.

    Other engineers change their apps' migrations while the benchmark data sits for hours;
    their tables are empty here, so dropping and re-migrating them is free and keeps the
    million-case tables that took ten minutes to load.
    """
    from django.apps import apps
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    existing = set(connection.introspection.table_names())
    cascade = " CASCADE" if connection.vendor == "postgresql" else ""
    # An app a filled app's migrations depend on (jobs, for knowledge) keeps its tables and history.
    graph = MigrationLoader(connection).graph
    needed = {dep[0] for node in graph.nodes if node[0] in GENERATED_APPS for dep in graph.node_map[node].parents}
    with connection.constraint_checks_disabled(), connection.cursor() as cursor:
        for config in apps.get_app_configs():
            if config.label in GENERATED_APPS or config.label in needed:
                continue
            for table in sorted(t for t in existing if t.startswith(f"{config.label}_")):
                cursor.execute(f'DROP TABLE IF EXISTS "{table}"{cascade}')
            if "django_migrations" in existing:
                cursor.execute("DELETE FROM django_migrations WHERE app = %s", [config.label])
    call_command("migrate", verbosity=0)


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def deep_cursor(code: str, user: Any) -> tuple[str, int]:
    """Cursor of the row DEEP_ROW rows into the queue (90% into a shorter one), found with OFFSET once."""
    from madoguchi.cases import queues

    if code == "promises":
        field, rows = "due_at", queues._due_commitments().order_by("due_at", "id")
    else:
        field = "resolved_at" if code == "resolved" else "received_at"
        rows = queues.queue_queryset(code, user).order_by(f"-{field}", "-id")
    total = rows.count()
    depth = min(DEEP_ROW, int(total * 0.9))
    moment, pk = rows.values_list(field, "pk")[depth]
    return queues.encode_cursor(SimpleNamespace(pk=pk, **{field: moment}), field), depth


def pages(user: Any, size: int) -> tuple[dict[str, str], dict[str, int]]:
    from django.urls import reverse

    from madoguchi.cases.queues import QUEUES

    inbox = reverse("cases:inbox")
    urls: dict[str, str] = {}
    depths: dict[str, int] = {}
    for queue in QUEUES:
        urls[f"{queue.code} first"] = f"{inbox}?{urlencode({'queue': queue.code})}"
        cursor, depth = deep_cursor(queue.code, user)
        urls[f"{queue.code} deep"] = f"{inbox}?{urlencode({'queue': queue.code, 'cursor': cursor})}"
        depths[queue.code] = depth
    from generate_desk import BENCH_CASE_EVERY

    from madoguchi.cases.views import FORM_PARTS

    step = max(size // CASE_PAGES // BENCH_CASE_EVERY, 1) * BENCH_CASE_EVERY
    for n, pk in enumerate(range(step, size + 1, step)):
        if n < CASE_PAGES:
            urls[f"case {pk}"] = reverse("cases:detail", args=[pk])
            # The page carries its side panels, reply tools and stored suggestions (issue 16);
            # htmx fetches each form when the agent opens it, a request of its own, timed the same.
            # The worker's ranking of the suggestions is timed apart (rank_timings).
            for part in FORM_PARTS:
                urls[f"fragment form-{part} {pk}"] = reverse("cases:part", args=[pk, part])
    return urls, depths


def count_queries(client: Any, urls: dict[str, str], explain: bool, repeat: int = 3) -> dict[str, dict[str, float]]:
    """Queries per page, and the median time the database spent on them (the rest is Python and templates)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for name, url in urls.items():
        sql_ms = []
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url)
            assert response.status_code == 200, (name, response.status_code)
            sql_ms.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)
        counts[name] = {"queries": len(captured.captured_queries), "sql_ms": statistics.median(sql_ms)}
        if explain:
            show_slow(name, captured.captured_queries)
    return counts


def show_slow(name: str, captured: list[dict[str, str]], threshold_ms: float = 3.0) -> None:
    """Print the plan of every query of a page that took more than threshold_ms."""
    from django.db import connection

    for query in captured:
        if float(query["time"]) * 1000 < threshold_ms:
            continue
        sql = query["sql"]
        prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
        with connection.cursor() as cursor:
            cursor.execute(prefix + sql)
            plan = "\n      ".join(" ".join(str(c) for c in row) for row in cursor.fetchall())
        print(f"\n[{name}] {float(query['time']) * 1000:.1f} ms\n  {sql}\n      {plan}")


def measure(client: Any, urls: dict[str, str], rounds: int, warmup: int) -> dict[str, list[tuple[float, float]]]:
    """(wall ms, CPU ms of this thread) per request; CPU time shows the cost without the other engineers' load."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in urls}
    for round_no in range(rounds + warmup):
        for name, url in urls.items():
            started, cpu_started = time.perf_counter(), time.thread_time()
            response = client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
            cpu = (time.thread_time() - cpu_started) * 1000
            assert response.status_code == 200, (name, response.status_code)
            if round_no >= warmup:
                samples[name].append((elapsed, cpu))
        print(f"  round {round_no + 1}/{rounds + warmup} done", flush=True)
    return samples


def rows_shown(client: Any, url: str) -> int:
    return client.get(url).content.decode().count('<tr class="prio-')


def summarise(samples: dict[str, list[tuple[float, float]]], counts: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    grouped: dict[str, list[str]] = {}
    for name in samples:
        if name.startswith("case "):
            label = "case page (50 interactions)"
        elif name.startswith("fragment "):
            label = "↳ " + name.split()[1]  # one row per fragment over the 10 cases
        else:
            label = name
        grouped.setdefault(label, []).append(name)
    out = {}
    for label, names in grouped.items():
        values = [wall for n in names for wall, _cpu in samples[n]]
        cpu = [c for n in names for _wall, c in samples[n]]
        out[label] = {"p50": round(statistics.median(values), 1), "p95": round(percentile(values, 0.95), 1),
                      "cpu_p50": round(statistics.median(cpu), 1), "cpu_p95": round(percentile(cpu, 0.95), 1),
                      "n": len(values), "queries": max(counts[n]["queries"] for n in names),
                      "sql_ms": round(statistics.median(counts[n]["sql_ms"] for n in names), 1)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--size", type=int, default=FULL_SIZE, help="number of cases (default 1,000,000)")
    parser.add_argument("--generate", action="store_true", help="drop, migrate and fill the database first")
    parser.add_argument("--generate-only", action="store_true", help="fill the database, measure later")
    parser.add_argument("--rounds", type=int, default=30, help="measured rounds (each requests every page once)")
    parser.add_argument("--warmup", type=int, default=3, help="rounds discarded before measuring")
    parser.add_argument("--explain", action="store_true", help="print plans of queries slower than 3 ms")
    parser.add_argument("--user", default="bench-agent1-1", help="agent to log in as (has a team)")
    parser.add_argument("--no-rank", action="store_true", help="skip timing the worker's ranking of suggestions")
    parser.add_argument("--only", default="", help="measure only the pages whose name starts with this (e.g. 'case ')")
    args = parser.parse_args()

    data_dir, url = configure(args.db, args.size)
    if args.generate or args.generate_only:
        reset_database(args.db, data_dir, url)
    import django

    django.setup()
    result: dict[str, Any] = {"db": args.db, "size": args.size, "cpus": os.cpu_count(), "rounds": args.rounds}
    if args.generate or args.generate_only:
        result["generation"] = build(args.db, args.size, data_dir, url)
        (data_dir / f"generation-{args.db}.json").write_text(json.dumps(result["generation"], indent=1))
        if args.generate_only:
            return

    from django.test import Client

    refresh_other_apps()

    from madoguchi.accounts.models import User
    from madoguchi.cases.models import Case, Interaction

    user = User.objects.get(username=args.user)
    result["data"] = {"cases": Case.objects.count(), "interactions": Interaction.objects.count()}
    client = Client()
    client.force_login(user)
    urls, depths = pages(user, args.size)
    urls = {name: url for name, url in urls.items() if name.startswith(args.only)}
    result["deep_row"] = depths
    result["rows_on_deep_page"] = {n.split()[0]: rows_shown(client, u) for n, u in urls.items() if n.endswith(" deep")}
    counts = count_queries(client, urls, args.explain)
    # As `madoguchi serve` runs: what is loaded by now is kept out of the collector's passes.
    from madoguchi.cli import tune_garbage_collector

    tune_garbage_collector()
    load_before = os.getloadavg()[0]
    samples = measure(client, urls, args.rounds, args.warmup)
    result["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    result["pages"] = summarise(samples, counts)
    if not args.no_rank:
        result["pages"].update(rank_timings([int(url.rstrip("/").rsplit("/", 1)[1]) for name, url in urls.items()
                                             if name.startswith("case ")], args.rounds))
    print_table(result)
    out = data_dir / f"results-{args.db}-{args.size}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1))
    print(f"\nwritten {out}")


def rank_timings(case_pks: list[int], rounds: int) -> dict[str, dict[str, Any]]:
    """What the worker spends ranking one case's suggestions (articles and similar resolved
    cases) when the case arrives: the work the case page no longer does (issue 16)."""
    from madoguchi.cases.models import Case
    from madoguchi.knowledge import suggestions

    if not case_pks:
        return {}
    cases = list(Case.objects.filter(pk__in=case_pks))
    times: list[float] = []
    for _ in range(rounds):
        for case in cases:
            started = time.perf_counter()
            suggestions.do_refresh(case, force=True)
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"worker: rank suggestions of a case": {
        "p50": round(statistics.median(times), 1), "p95": round(times[int(len(times) * 0.95) - 1], 1),
        "cpu_p50": "", "cpu_p95": "", "sql_ms": "", "queries": "", "n": len(times)}}


def print_table(result: dict[str, Any]) -> None:
    print(f"\n{result['db']} — {result['data']['cases']:,} cases, {result['data']['interactions']:,} interactions")
    print(f"load average (1 min) before/after measuring: {result['load_average']}")
    print("| page | deep row | p50 ms | p95 ms | CPU p50 ms | CPU p95 ms | SQL ms (median) | queries | requests |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, row in result["pages"].items():
        depth = result["deep_row"].get(name.split()[0], "") if name.endswith(" deep") else ""
        depth_text = f"{depth:,}" if isinstance(depth, int) else ""
        print(f"| {name} | {depth_text} | {row['p50']} | {row['p95']} | {row['cpu_p50']} | {row['cpu_p95']} | {row['sql_ms']} | {row['queries']} | {row['n']} |")


if __name__ == "__main__":
    main()
