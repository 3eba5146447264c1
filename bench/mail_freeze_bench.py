"""Freezing mails against a running desk (issue 15, defect 2): page times while they are filed.

One `madoguchi serve` (worker threads in the process, as `bin/start` runs it; the SMTP
receiver on a port of its own) on a fresh data folder with the demo shop (`madoguchi demo`).
An agent of the demo logs in over HTTP; then a stranger sends the mails that froze the desk
before (1.2 MB bodies that decode to one long line, three kinds; 821 KB HTML of `<![` runs;
--per-kind of each) over SMTP, while the agent loads the inbox and a case page in turn. The
figures: page time (median, p95, max) before the mails (idle) and from the first mail until
all are filed as cases, and the time until all are filed (seen in the inbox). Every loop is
bounded in count and in time; everything runs on 127.0.0.1.

    flock /tmp/bench.lock .venv/bin/python bench/mail_freeze_bench.py --db sqlite --runs 3
    flock /tmp/bench.lock .venv/bin/python bench/mail_freeze_bench.py --db postgres --runs 3

PostgreSQL: the server of DATABASE_URL (default postgres://postgres@127.0.0.1:5432), database
`bench_freeze`, dropped and created by each run. Acknowledgements are off (no outgoing
relay here). Target: page p95 under 100 ms while the mails are filed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from madoguchi.chat.tests.servers import MADOGUCHI, _wait_up, free_port, login_cookie  # noqa: E402
from madoguchi.mail.tests.helpers import FREEZING_KINDS, freezing_mail  # noqa: E402

PG_SERVER = "postgres://postgres@127.0.0.1:5432"
PG_DATABASE = "bench_freeze"
AGENT = "tanaka"  # a demo agent (madoguchi.demo.staff)
MAX_REQUESTS = 20_000  # page loads in one phase, whatever happens


def database_url(db: str, data_dir: Path) -> str:
    if db == "sqlite":
        return f"sqlite:///{data_dir / 'madoguchi.sqlite3'}"
    import psycopg

    server = os.environ.get("DATABASE_URL", PG_SERVER)
    parts = urllib.parse.urlsplit(server)
    with psycopg.connect(urllib.parse.urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_DATABASE}")
    return urllib.parse.urlunsplit(parts._replace(path=f"/{PG_DATABASE}"))


def demo_password(data_dir: Path, username: str) -> str:
    for line in (data_dir / "demo-accounts.txt").read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if fields[0] == username:
            return fields[1]
    raise RuntimeError(f"{username} is not in demo-accounts.txt")


def get(url: str, cookie: str) -> tuple[float, str]:
    started = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Cookie": cookie}), timeout=300) as response:
        body = response.read().decode()
    return (time.perf_counter() - started) * 1000, body


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"n": len(ordered), "median_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1), "max_ms": round(ordered[-1], 1)}


def send(port: int, mails: list[bytes], sent: list[float]) -> None:
    """Each mail in its own SMTP session, as separate strangers' servers would deliver them."""
    for raw in mails:
        with smtplib.SMTP("127.0.0.1", port, timeout=120) as client:
            client.sendmail("stranger@example.net", ["support@shop.example.jp"], raw)
        sent.append(time.monotonic())


def run(db: str, per_kind: int, seconds: float, idle_seconds: float) -> dict[str, object]:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-freeze-"))
    process = None
    log = open(data_dir / "serve.log", "w")  # noqa: SIM115 - closed below
    try:
        port, smtp_port = free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("MADOGUCHI_TASKS_IMMEDIATE", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
        env.update(DATABASE_URL=database_url(db, data_dir), MADOGUCHI_DATA_DIR=str(data_dir), MADOGUCHI_SMTP_PORT=str(smtp_port),
                   MADOGUCHI_SMTP_OUT_PORT=str(free_port()), MADOGUCHI_MAIL_ACK="false", MADOGUCHI_LOG_LEVEL="WARNING",
                   PYTHONUNBUFFERED="1")
        subprocess.run([MADOGUCHI, "demo"], env=env, check=True, timeout=900, stdout=subprocess.DEVNULL)
        process = subprocess.Popen([MADOGUCHI, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        _wait_up(base, process)
        cookie = login_cookie(base, AGENT, demo_password(data_dir, AGENT))
        inbox = base + "/?queue=all"
        case_id = re.search(r'href="/cases/(\d+)/"', get(inbox, cookie)[1])
        assert case_id, "no case in the demo inbox"
        pages = [inbox, f"{base}/cases/{case_id.group(1)}/"]
        subjects = [f"至急（{kind} {n}）" for n in range(per_kind) for kind in FREEZING_KINDS]
        mails = [freezing_mail(kind, n) for n in range(per_kind) for kind in FREEZING_KINDS]

        idle: list[float] = []
        started = time.monotonic()
        while time.monotonic() - started < idle_seconds and len(idle) < MAX_REQUESTS:
            idle.append(get(pages[len(idle) % 2], cookie)[0])

        sent: list[float] = []
        sender = threading.Thread(target=send, args=(smtp_port, mails, sent), daemon=True)
        loaded: list[float] = []
        filed_s = None
        started = time.monotonic()
        sender.start()
        while time.monotonic() - started < seconds and len(loaded) < MAX_REQUESTS:
            elapsed, body = get(pages[len(loaded) % 2], cookie)
            loaded.append(elapsed)
            if len(loaded) % 2 == 1 and all(subject in body for subject in subjects):
                filed_s = time.monotonic() - started
                break
        sender.join(timeout=60)
        states = subprocess.run(
            [MADOGUCHI, "shell", "-c", "from collections import Counter\nfrom madoguchi.mail.models import RawMessage\n"
             "print(dict(Counter(RawMessage.objects.values_list('state', flat=True))))"],
            env=env, capture_output=True, text=True, timeout=300).stdout.strip().splitlines()
        return {
            "db": db, "mails": len(mails), "mail_bytes": sum(len(m) for m in mails),
            "sent_s": round(sent[-1] - started, 2) if len(sent) == len(mails) else None,
            "filed_s": round(filed_s, 2) if filed_s is not None else None,
            "raw_states": states[-1] if states else "", "idle": summary(idle), "while_filing": summary(loaded),
        }
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--per-kind", type=int, default=3, help="mails of each of the four kinds")
    parser.add_argument("--seconds", type=float, default=180, help="longest wait for the mails to be filed")
    parser.add_argument("--idle-seconds", type=float, default=10, help="page loads before the mails, for comparison")
    args = parser.parse_args()
    results = []
    for number in range(args.runs):
        result = run(args.db, args.per_kind, args.seconds, args.idle_seconds)
        results.append(result)
        print(json.dumps({"run": number + 1, **result}, ensure_ascii=False), flush=True)
    if args.runs > 1:
        p95 = [r["while_filing"]["p95_ms"] for r in results]  # type: ignore[index]
        print(json.dumps({"db": args.db, "runs": args.runs, "while_filing_p95_ms": p95,
                          "filed_s": [r["filed_s"] for r in results]}, ensure_ascii=False))


if __name__ == "__main__":
    main()
