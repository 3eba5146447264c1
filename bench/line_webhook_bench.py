"""LINE webhook throughput (issue 19): signed events POSTed to one `madoguchi serve` (as
`bin/start` runs it: embedded worker, SQLite by default) at a fixed rate; every event must be
accepted (200) and stored (one LineRawEvent per webhookEventId) — nothing lost — and the worker
then files them all as LINE cases. A local fake LINE API answers the profile calls.

Loopback only; every loop is bounded in count and time and the script stops by itself.

    .venv/bin/python bench/line_webhook_bench.py --seconds 60             # 500 events/s for 60 s (docs/benchmarks.md)
    .venv/bin/python bench/line_webhook_bench.py --rate 50 --seconds 4    # a quick look
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/linebench .venv/bin/python bench/line_webhook_bench.py

The load comes from `--procs` processes (each with `--conns` keep-alive connections in threads),
each sending its share of the rate on a fixed schedule (open loop: a slow answer does not slow
the sender down, it shows as latency). One event per request (the worst case: LINE batches
events of a moment into one request). `--users` distinct LINE users write, so the worker files
messages into that many open cases.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from madoguchi.chat.tests.servers import own_database  # noqa: E402
from madoguchi.testing.desk_process import MailSink, ServedDesk  # noqa: E402
from madoguchi.testing.fake_line import SECRET, TOKEN, FakeLine, event, sign, webhook_body  # noqa: E402


def user_id(n: int) -> str:
    return f"U{n:032x}"


def sender(port: int, proc: int, procs: int, conns: int, rate: float, seconds: float, users: int,
           queue: mp.Queue) -> None:
    """Sends events proc, proc+procs, … on schedule; reports (status counts, latencies)."""
    results: list[tuple[int, float]] = []
    lock = threading.Lock()
    start = time.monotonic() + 0.5
    total = int(rate * seconds)
    mine = list(range(proc, total, procs))

    def run(thread: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for index in mine[thread::conns]:
            due = start + index / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            body = webhook_body(event("message", user_id(index % users), f"bench-{index:08d}", int(time.time() * 1000),
                                      message={"type": "text", "id": f"m{index}", "text": f"ベンチマーク {index} 件目の問い合わせです"}))
            sent = time.monotonic()
            try:
                conn.request("POST", "/line/webhook/", body=body, headers={
                    "Content-Type": "application/json", "X-Line-Signature": sign(body)})
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                status = 0
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            with lock:
                results.append((status, time.monotonic() - sent))
        conn.close()

    threads = [threading.Thread(target=run, args=(t,)) for t in range(conns)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put(results)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


COUNTS = ("from madoguchi.line.models import LineRawEvent\nfrom madoguchi.cases.models import Case\n"
          "print(LineRawEvent.objects.count(), LineRawEvent.objects.filter(processed_at__isnull=False).count(), "
          "Case.objects.filter(channel='line').count())")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=500, help="events per second (default 500)")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--conns", type=int, default=48, help="connections per process (enough for 500/s while answers wait for a busy CPU)")
    parser.add_argument("--settle", type=float, default=600, help="seconds to wait for the worker to file all")
    args = parser.parse_args(argv)

    with FakeLine() as fake, MailSink() as sink, own_database("line_bench") as database_url, \
            tempfile.TemporaryDirectory(prefix="line-bench-") as folder:
        for n in range(args.users):
            fake.profiles[user_id(n)] = {"displayName": f"ベンチ {n} 様"}
        desk = ServedDesk.create(Path(folder) / "data", database_url if database_url.startswith("postgres")
                                 else f"sqlite:///{folder}/data/desk.sqlite3", sink.port,
                                 MADOGUCHI_MAIL_ACK="false", MADOGUCHI_LINE_CHANNEL_SECRET=SECRET,
                                 MADOGUCHI_LINE_CHANNEL_ACCESS_TOKEN=TOKEN, MADOGUCHI_LINE_API_BASE=fake.url,
                                 MADOGUCHI_LINE_DATA_API_BASE=fake.url)
        desk.start()
        try:
            queue: mp.Queue = mp.Queue()
            procs = [mp.Process(target=sender, args=(desk.port, p, args.procs, args.conns, args.rate, args.seconds,
                                                     args.users, queue)) for p in range(args.procs)]
            began = time.monotonic()
            for proc in procs:
                proc.start()
            results = [item for _ in procs for item in queue.get(timeout=args.seconds + 600)]
            for proc in procs:
                proc.join(timeout=30)
            sending = time.monotonic() - began - 0.5
            ok = [latency for status, latency in results if status == 200]
            stored, filed, cases = (int(x) for x in desk.shell(COUNTS).split())
            deadline = time.monotonic() + args.settle
            while filed < stored and time.monotonic() < deadline:
                time.sleep(2)
                stored, filed, cases = (int(x) for x in desk.shell(COUNTS).split())
            settled = time.monotonic() - began
        finally:
            desk.stop()
    figures = {
        "database": "postgres" if database_url.startswith("postgres") else "sqlite",
        "target_rate": args.rate, "sent": len(results), "accepted": len(ok),
        "refused_or_failed": len(results) - len(ok), "achieved_rate": round(len(ok) / sending, 1),
        "p50_ms": round(percentile(ok, 0.5) * 1000, 1), "p95_ms": round(percentile(ok, 0.95) * 1000, 1),
        "p99_ms": round(percentile(ok, 0.99) * 1000, 1), "max_ms": round(max(ok, default=0) * 1000, 1),
        "stored": stored, "lost": len(ok) - stored, "filed": filed, "line_cases": cases,
        "all_filed_after_s": round(settled, 1) if filed == stored else None,
    }
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    return 0 if figures["lost"] == 0 and figures["refused_or_failed"] == 0 else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
