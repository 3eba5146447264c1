"""Fault benchmark, scale mode (issue 21 acceptance): `kill -9` a worker during 1,000 inbound
mails; every mail arrives once and every automatic answer is sent once.

The scale mode as three processes on PostgreSQL and Redis (madoguchi/testing/scale_desk.py):
`serve --no-worker`, `worker --listeners` (the SMTP receiver; it files mail too) and a second
`worker`. --mails new customers' mails are sent to the receiver by a sender that retries until
it gets 250, as a mail server does; while they arrive and are filed, a worker is killed with
SIGKILL --kills times (--target: `filer`, `listener`, or `both` alternating) and started again
at once. When the desk has caught up the script counts, from the outside: mails accepted,
inbound messages and cases, automatic answers each customer got at the shop's outgoing SMTP
server (exactly one each), outgoing mails sent twice, messages missing from the search index.

By default the sweeps keep their production settings (work left 60 s, mail left 300 s, a
send begun by a dead worker 120 s), so catching up after a kill takes minutes; --quick uses
the fault test's short ones (5 / 15 / 10 / 20 s), same code paths.

    nice -n 10 .venv/bin/python bench/fault_bench.py --mails 1000 --kills 3
    nice -n 10 .venv/bin/python bench/fault_bench.py --mails 1000 --kills 3 --quick --target filer

PostgreSQL: 127.0.0.1:5432, database bench_fault, made anew each run. Redis: a private
redis-server on a free port (madoguchi/testing/private_servers.py), never the shared one.
Only 127.0.0.1; every loop bounded in time. Exits 1 on any mail lost or doubled.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from madoguchi.testing.desk_process import MailSink  # noqa: E402
from madoguchi.testing.private_servers import private_redis  # noqa: E402
from madoguchi.testing.scale_desk import QUICK_SWEEPS, ScaleDesk, lost_or_doubled, scale_crash_run  # noqa: E402

PG_SERVER = "postgres://postgres@127.0.0.1:5432"


def database() -> str:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS bench_fault WITH (FORCE)")
        conn.execute("CREATE DATABASE bench_fault")
    return f"{PG_SERVER}/bench_fault"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mails", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--target", choices=["filer", "listener", "both"], default="both")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="the fault test's short sweep delays")
    parser.add_argument("--settle", type=float, default=1200, help="seconds to wait for the desk to catch up")
    args = parser.parse_args()
    results = []
    for run in range(args.runs):
        data_dir = Path("/tmp/bench-fault-scale")
        shutil.rmtree(data_dir, ignore_errors=True)
        with MailSink() as sink, private_redis() as redis:
            desk = ScaleDesk.create(data_dir, database(), redis.url, sink.port, **(QUICK_SWEEPS if args.quick else {}))
            try:
                result = scale_crash_run(desk, sink, count=args.mails, kills=args.kills, target=args.target,
                                         settle_seconds=args.settle)
            finally:
                desk.stop()
        result = {"run": run + 1, "quick": args.quick, **result, "lost_or_doubled": lost_or_doubled(result)}
        print(json.dumps(result, ensure_ascii=False), flush=True)
        results.append(result)
    lost = sum(int(r["lost_or_doubled"]) for r in results)
    print(f"scale mode: {len(results)} runs, lost or doubled: {lost}")
    sys.exit(1 if lost else 0)


if __name__ == "__main__":
    main()
