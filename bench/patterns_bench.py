"""Complaint patterns at scale (issue 20 item 2): the cluster list, cluster pages and the
dashboard with its breakdowns by product, passage and carrier, over HTTP against `madoguchi
serve`, as a team lead's browser loads them (bench/http_bench.py: the page, then every htmx
fragment it loads; p50/p95/p99 over interleaved rounds). Target: each under 1 s at 1,000,000
cases.

The desk is bench/generate_desk.py's (the same as bench/http_bench.py uses); its
`fill_patterns` writes the clusters and members (70 % of cases are complaints) and runs the
periodic job's count. A desk generated before the patterns app gets them here.

The breakdowns are cached until a case joins a cluster (services.breakdown), so over HTTP a
repeat view is a cache hit; their uncached cost (a 30-day and a 365-day period, each
dimension) is timed in this process as well, and so is the periodic job (refresh_clusters).

    nice -n 15 .venv/bin/python bench/patterns_bench.py --db sqlite --size 100000 [--generate]
    .venv/bin/python bench/patterns_bench.py --db postgres --size 1000000

Only loopback addresses; every loop is bounded.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]


def pages_of() -> dict[str, tuple[str, str]]:
    from django.urls import reverse
    from http_bench import LEAD

    from madoguchi.patterns.models import Cluster, Member

    listed = Cluster.objects.filter(recent__gt=0).order_by("-recent", "-id")
    biggest = Cluster.objects.order_by("-size", "-id").values_list("pk", "size").first()
    assert biggest is not None, "no clusters: generate the desk (or its patterns) first"
    sizes = sorted(Cluster.objects.values_list("size", flat=True))
    typical = Cluster.objects.filter(size=sizes[len(sizes) // 2]).values_list("pk", flat=True).first()
    deep_row = min(biggest[1] - 1, 2000)
    deep = Member.objects.filter(cluster_id=biggest[0]).order_by("-received_at", "-case_id").values_list(
        "received_at", "case_id")[deep_row]
    rows = list(listed.values_list("recent", "pk")[:1000])
    deep_list = rows[min(len(rows) - 1, 500)] if rows else None
    lst = reverse("patterns:list")
    year = (dt.date.today() - dt.timedelta(days=364)).isoformat()
    pages = {
        "patterns list": (lst, LEAD),
        "patterns list spikes": (f"{lst}?spikes=1", LEAD),
        "patterns list one carrier": (f"{lst}?carrier=yamato", LEAD),
        "cluster biggest": (reverse("patterns:cluster", args=[biggest[0]]), LEAD),
        "cluster typical": (reverse("patterns:cluster", args=[typical]), LEAD),
        "cluster biggest deep cases": (reverse("patterns:cluster", args=[biggest[0]]) + "?"
                                       + urllib.parse.urlencode({"cursor": f"{deep[0].isoformat()}_{deep[1]}"}), LEAD),
        "dashboard (with the patterns breakdowns)": (reverse("metrics:dashboard"), LEAD),
        "dashboard one year": (reverse("metrics:dashboard") + f"?start={year}", LEAD),
    }
    if deep_list:
        pages["patterns list deep"] = (f"{lst}?cursor={deep_list[0]}_{deep_list[1]}", LEAD)
    return pages


def uncached(runs: int) -> list[dict[str, object]]:
    """services._breakdown (what a cache miss costs) and the periodic job, in this process."""
    from django.db import connection

    from madoguchi.patterns import services

    today = dt.date.today()
    out = []
    for days in (30, 365):
        for dim in services.DIMS:
            samples = []
            for _n in range(runs):
                started = time.perf_counter()
                services._breakdown(dim, today - dt.timedelta(days=days - 1), today, None, 50)
                samples.append((time.perf_counter() - started) * 1000)
            out.append({"what": f"breakdown {dim} {days} days (uncached, in-process)",
                        "p50": round(statistics.median(samples), 1), "max": round(max(samples), 1), "n": runs})
    samples = []
    for _n in range(3):
        started = time.perf_counter()
        result = services.refresh_clusters()
        samples.append((time.perf_counter() - started) * 1000)
    out.append({"what": f"periodic job: refresh_clusters ({result['clusters']:,} clusters with cases in 12 weeks)",
                "p50": round(statistics.median(samples), 1), "max": round(max(samples), 1), "n": 3})
    connection.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--generate", action="store_true", help="drop and generate the desk first")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5, help="in-process runs of each uncached breakdown")
    parser.add_argument("--out", help="JSON lines file (appended)")
    parser.add_argument("--data-dir", help="SQLite: this folder instead of the shared /tmp/bench-desk[-SIZE]")
    args = parser.parse_args()

    from desk_bench import build, configure, refresh_other_apps, reset_database

    data_dir, url = configure(args.db, args.size)
    if args.data_dir and args.db == "sqlite":
        data_dir = Path(args.data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{data_dir / 'madoguchi.sqlite3'}"
        os.environ.update(MADOGUCHI_DATA_DIR=str(data_dir), DATABASE_URL=url)
    os.environ.pop("MADOGUCHI_ALLOWED_HOSTS", None)
    if args.generate:
        reset_database(args.db, data_dir, url)
    import django

    django.setup()
    if args.generate:
        build(args.db, args.size, data_dir, url)
    refresh_other_apps()
    from madoguchi.patterns.models import Member

    if not Member.objects.exists():  # a desk generated before the patterns app
        from generate_desk import PostgresLoader, SQLiteLoader, fill_patterns

        def make_loader() -> SQLiteLoader | PostgresLoader:
            return SQLiteLoader(str(data_dir / "madoguchi.sqlite3")) if args.db == "sqlite" else PostgresLoader(url)

        fill_patterns(make_loader, log=lambda line: print(f"  {line}", flush=True))
    in_process = uncached(args.runs)
    pages = pages_of()
    from django.db import connections
    from http_bench import PASSWORD, Browser, Target, figures, report, run_rounds, start_desk

    connections.close_all()
    servers = start_desk("embedded", 1, data_dir, 0)
    try:
        browsers = {user: Browser(servers.bases) for user in {u for _p, u in pages.values()}}
        for user, browser in browsers.items():
            browser.login(user, PASSWORD)
        target = Target("madoguchi", browsers, pages)
        load_before = os.getloadavg()[0]
        run_rounds([target], args.rounds, args.warmup, {})
        meta = {"bench": "patterns", "db": args.db, "mode": "embedded", "processes": 1, "cases": args.size,
                "rounds": args.rounds, "load": [round(load_before, 1), round(os.getloadavg()[0], 1)],
                "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        out = Path(args.out) if args.out else data_dir / f"patterns-{args.db}.jsonl"
        report(figures(target), {}, {}, meta, out)
        with out.open("a") as f:
            for line in in_process:
                f.write(json.dumps({**meta, **line}, ensure_ascii=False) + "\n")
        print("\n| in this process | p50 ms | max ms | n |\n|---|---:|---:|---:|")
        for line in in_process:
            print(f"| {line['what']} | {line['p50']} | {line['max']} | {line['n']} |")
    finally:
        servers.stop()


if __name__ == "__main__":
    main()
