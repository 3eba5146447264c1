"""Print the docs/benchmarks.md tables of the case-desk benchmark from its result files.

    .venv/bin/python bench/desk_report.py

Reads /tmp/bench-desk/results-<db>-1000000[-proposed].json and the 10,000-case files that
bench/desk_bench.py writes, and prints one table per database: wall time p50/p95 as measured,
the same with bench/proposed_queues.py swapped in (and, with --before DIR, an earlier run), in-process CPU p50, and queries per page
at 10,000 and at 1,000,000 cases.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FULL, SMALL = 1_000_000, 10_000


def load(db: str, size: int, proposed: bool, folder: Path | None = None) -> dict[str, Any] | None:
    folder = folder or Path("/tmp/bench-desk" if size == FULL else f"/tmp/bench-desk-{size}")
    path = folder / f"results-{db}-{size}{'-proposed' if proposed else ''}.json"
    return json.loads(path.read_text()) if path.exists() else None


def cell(result: dict[str, Any] | None, page: str, keys: tuple[str, str] = ("p50", "p95")) -> str:
    if not result or page not in result["pages"]:
        return "—"
    row = result["pages"][page]
    return " / ".join(f"{row[k]:.0f}" for k in keys)


def table(db: str, before_dir: Path | None) -> None:
    before = load(db, FULL, False, before_dir) if before_dir else None
    now, fixed = load(db, FULL, False), load(db, FULL, True)
    small, small_fixed = load(db, SMALL, False), load(db, SMALL, True)
    reference = now or fixed
    if not reference:
        return
    print(f"\n**{db}**, {reference['data']['cases']:,} cases, {reference['data']['interactions']:,} interactions")
    for label, result in (("before", before), ("as is", now), ("proposed", fixed)):
        if result:
            print(f"load average while measuring ({label}): {result['load_average'][0]}–{result['load_average'][1]}")
    print()
    first = "before p50 / p95 ms | " if before else ""
    print(f"| page | deep row | {first}as is p50 / p95 ms | proposed p50 / p95 ms | proposed CPU p50 / p95 ms "
          "| proposed SQL ms | queries 10k → 1M (as is) | queries 10k → 1M (proposed) |")
    print("|---|---:|" + "---:|" * (7 if before else 6))
    for page in reference["pages"]:
        depth = reference["deep_row"].get(page.split()[0]) if page.endswith(" deep") else None
        queries = [
            f"{a['pages'][page]['queries'] if a else '—'} → {b['pages'][page]['queries'] if b else '—'}"
            for a, b in ((small, now), (small_fixed, fixed))
        ]
        sql = f"{fixed['pages'][page]['sql_ms']:.0f}" if fixed else "—"
        first = f"{cell(before, page)} | " if before else ""
        print(f"| {page} | {f'{depth:,}' if depth is not None else ''} | {first}{cell(now, page)} | {cell(fixed, page)} "
              f"| {cell(fixed, page, ('cpu_p50', 'cpu_p95'))} | {sql} | {queries[0]} | {queries[1]} |")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", type=Path, help="folder with result files of an earlier run, shown first")
    args = parser.parse_args()
    for db in ("sqlite", "postgres"):
        table(db, args.before)
