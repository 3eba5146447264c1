"""Crash benchmark (issue 15, defect 3): nothing lost when the desk is killed mid-work.

A real `madoguchi serve` (the embedded desk: web, SMTP receiver and worker threads in one
process) receives --mails new customers' mails over SMTP from a sender that retries until it
gets 250, as a mail server does. While they arrive the process is killed with SIGKILL --kills
times and started again at once. When it has caught up the script counts, from the outside:
mails accepted, cases, automatic answers each customer received at the shop's outgoing SMTP
server (exactly one each: the receipt, or the after-hours answer when the shop is closed),
messages missing from the search index, work still pending. The sweeps run with their
production settings (work left 60 s, mail left 300 s), so catching up takes minutes.

    .venv/bin/python bench/crash_bench.py --db sqlite --mails 1000 --kills 2
    .venv/bin/python bench/crash_bench.py --db postgres --mails 1000 --kills 2

Only 127.0.0.1; every loop bounded in time. Data in /tmp/bench-crash-<db>/ (and PostgreSQL
database bench_crash), made anew each run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from madoguchi.testing.desk_process import MailSink, ServedDesk, crash_run  # noqa: E402

PG_SERVER = "postgres://postgres@127.0.0.1:5432"


def database(db: str, data_dir: Path) -> str:
    if db == "sqlite":
        return f"sqlite:///{data_dir / 'madoguchi.sqlite3'}"
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS bench_crash WITH (FORCE)")
        conn.execute("CREATE DATABASE bench_crash")
    return f"{PG_SERVER}/bench_crash"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--mails", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=2)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--settle", type=float, default=900, help="seconds to wait for the desk to catch up")
    args = parser.parse_args()
    results = []
    for run in range(args.runs):
        data_dir = Path(f"/tmp/bench-crash-{args.db}")
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True)
        with MailSink() as sink:
            desk = ServedDesk.create(data_dir, database(args.db, data_dir), sink.port)
            try:
                result = crash_run(desk, sink, count=args.mails, kills=args.kills, settle_seconds=args.settle)
            finally:
                desk.stop()
        result = {"db": args.db, "run": run + 1, **result}
        print(json.dumps(result, ensure_ascii=False), flush=True)
        results.append(result)
    lost = sum(r["not_answered"] + r["answered_twice_or_more"] + r["messages_not_indexed"] + (r["mails"] - r["cases"]) for r in results)
    print(f"{args.db}: {len(results)} runs, lost or doubled: {lost}")
    sys.exit(1 if lost else 0)


if __name__ == "__main__":
    main()
