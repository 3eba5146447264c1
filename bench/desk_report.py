"""Print the docs/benchmarks.md table of the case-desk benchmark from its result files.

    .venv/bin/python bench/desk_report.py

Reads /tmp/bench-desk/results-<db>-1000000.json and the 10,000-case files
(/tmp/bench-desk-10000/results-<db>-10000.json) that bench/desk_bench.py writes, and prints one
table per database: wall p50 / p95 and in-process CPU p50 / p95 at 1,000,000 cases, the median SQL
time, and the queries per page at 10,000 and at 1,000,000 cases (they must be equal). Pages marked
↳ are the htmx fragments the case page loads after it (side panels, suggestions) or when the agent
opens a form.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FULL, SMALL = 1_000_000, 10_000
TARGET_MS = 50


def load(db: str, size: int) -> dict[str, Any] | None:
    folder = Path("/tmp/bench-desk" if size == FULL else f"/tmp/bench-desk-{size}")
    path = folder / f"results-{db}-{size}.json"
    return json.loads(path.read_text()) if path.exists() else None


def table(db: str) -> None:
    full, small = load(db, FULL), load(db, SMALL)
    if not full:
        print(f"\n{db}: no result at {FULL:,} cases yet")
        return
    data = full["data"]
    print(f"\n**{db}**, {data['cases']:,} cases, {data['interactions']:,} interactions, "
          f"{full['rounds'] if 'rounds' in full else '?'} rounds, load average (1 min) {full['load_average'][0]}–{full['load_average'][1]}")
    print("| page | deep row | p50 ms | p95 ms | CPU p50 / p95 ms | SQL ms | queries 10k → 1M | p95 < 50 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|:---:|")
    for name, row in full["pages"].items():
        depth = full["deep_row"].get(name.split()[0], "") if name.endswith(" deep") else ""
        depth_text = f"{depth:,}" if isinstance(depth, int) else ""
        small_q = small["pages"].get(name, {}).get("queries", "—") if small else "—"
        ok = "yes" if row["p95"] < TARGET_MS else "**no**"
        print(f"| {name} | {depth_text} | {row['p50']:.1f} | {row['p95']:.1f} | {row['cpu_p50']:.1f} / {row['cpu_p95']:.1f} "
              f"| {row['sql_ms']:.1f} | {small_q} → {row['queries']} | {ok} |")


def main() -> None:
    for db in ("sqlite", "postgres"):
        table(db)


if __name__ == "__main__":
    main()
