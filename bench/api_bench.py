"""The REST API's case list over HTTP (issue 18 item 5): GET /api/v1/cases, first page and a
deep page reached by a keyset cursor, against `madoguchi serve` on the desk bench/generate_desk.py
made (the same data as bench/desk_bench.py and bench/http_bench.py: /tmp/bench-desk[-SIZE]/ or
the PostgreSQL database bench_desk[_SIZE]).

A token is made for the generated agent, `serve` is started as bin/start runs it (embedded
worker), and each round asks, on one keep-alive connection, for: the first page, the page after
the row DEEP_ROW rows down (90% of a smaller desk, leaving a whole page; its cursor found with
OFFSET once, before the rounds), and the same two filtered by status=open. p50/p95/p99 per request over the rounds
(warm-up rounds dropped); the times are the client's, on loopback, so they include HTTP and JSON.

    nice -n 15 .venv/bin/python bench/api_bench.py --db sqlite --size 10000 --generate
    .venv/bin/python bench/api_bench.py --db postgres --size 1000000 --rounds 200

Output: a markdown table on stdout and one JSON line per figure (--out, default
/tmp/bench-desk[-SIZE]/api-<db>.jsonl). Only loopback addresses; every loop is bounded.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
AGENT = "bench-agent1-1"
DEEP_ROW = 500_000
LIMIT = 50


def deep_case(status: str | None) -> Any:
    from madoguchi.cases.models import Case

    rows = Case.objects.order_by("-updated_at", "-id")
    if status:
        rows = rows.filter(status=status)
    total = rows.count()
    # a whole page after it, even on a small desk
    return rows.only("id", "updated_at")[max(0, min(DEEP_ROW, int(total * 0.9), total - LIMIT - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--size", type=int, default=1_000_000, help="number of cases (the generated desk's size)")
    parser.add_argument("--generate", action="store_true", help="drop and generate the desk first")
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--out", help="JSON lines file (appended)")
    args = parser.parse_args()

    from desk_bench import build, configure, percentile, refresh_other_apps, reset_database
    from http_bench import start_desk

    data_dir, url = configure(args.db, args.size)
    os.environ.pop("MADOGUCHI_ALLOWED_HOSTS", None)
    if args.generate:
        reset_database(args.db, data_dir, url)
    import django

    django.setup()
    if args.generate:
        build(args.db, args.size, data_dir, url)
    refresh_other_apps()  # the api app's tables and the case list's indexes (its migrations)

    from django.db import connections

    from madoguchi.accounts.models import User
    from madoguchi.api import tokens
    from madoguchi.api.api import case_cursor

    _row, token = tokens.do_create_token(User.objects.get(username=AGENT), name="api_bench", scope="read")
    paths = {
        "first page": f"/api/v1/cases?limit={LIMIT}",
        "deep page": f"/api/v1/cases?limit={LIMIT}&cursor={case_cursor(deep_case(None))}",
        "first page, status=open": f"/api/v1/cases?limit={LIMIT}&status=open",
        "deep page, status=open": f"/api/v1/cases?limit={LIMIT}&status=open&cursor={case_cursor(deep_case('open'))}",
    }
    connections.close_all()
    servers = start_desk("embedded", 1, data_dir, 0)
    samples: dict[str, list[float]] = {name: [] for name in paths}
    try:
        port = int(servers.bases[0].rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Authorization": f"Bearer {token}", "Host": "127.0.0.1"}
        load_before = os.getloadavg()[0]
        for round_number in range(args.warmup + args.rounds):
            for name, path in paths.items():
                started = time.perf_counter()
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                elapsed = (time.perf_counter() - started) * 1000
                if response.status != 200:
                    raise RuntimeError(f"{path}: {response.status} {body[:300]!r}")
                if round_number >= args.warmup:
                    samples[name].append(elapsed)
                if round_number == 0:
                    assert len(json.loads(body)["items"]) == LIMIT, f"{name}: a short page; is the desk big enough?"
        conn.close()
    finally:
        servers.stop()
    meta = {"db": args.db, "cases": args.size, "rounds": args.rounds, "limit": LIMIT,
            "load": [round(load_before, 1), round(os.getloadavg()[0], 1)],
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    out = Path(args.out) if args.out else data_dir / f"api-{args.db}.jsonl"
    print(f"\nGET /api/v1/cases, {args.size:,} cases, {args.db}, {args.rounds} rounds (load {meta['load']})\n")
    print("| request | p50 ms | p95 ms | p99 ms |\n|---|---|---|---|")
    with open(out, "a") as handle:
        for name, values in samples.items():
            figures = {share: round(percentile(values, share), 1) for share in (0.5, 0.95, 0.99)}
            print(f"| {name} | {figures[0.5]} | {figures[0.95]} | {figures[0.99]} |")
            handle.write(json.dumps({"request": name, "p50": figures[0.5], "p95": figures[0.95], "p99": figures[0.99],
                                     **meta}) + "\n")
    print(f"\n(JSON lines appended to {out})")


if __name__ == "__main__":
    main()
