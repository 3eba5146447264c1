"""How long after PostgreSQL is back does the desk answer again (issue 21, fault tests)?

A real `madoguchi serve` (its web process and its embedded worker take their connections from
psycopg's pool) runs on a PostgreSQL server of the bench's own
(madoguchi/testing/private_servers.py). An agent's inbox is asked for once a second; the server
is stopped for --outage seconds (fast shutdown: every pooled connection is cut), then started
again. Printed: seconds from the server being back until the inbox answers 200 again, and until
the SMTP receiver (in the embedded worker) accepts a mail again. Each --config runs its own
desk:

- `before`: the pool as it was (no check when a connection is taken, psycopg_pool's reconnect
  of 5 minutes whose wait doubles after each failure: 1, 2, 4, 8, 16 … s);
- `after`: the settings' defaults (a connection is checked when taken, a reconnect given up
  after MADOGUCHI_DB_POOL_RECONNECT_SECONDS and begun again, 1 s apart, by the next request).

    nice -n 10 .venv/bin/python bench/pool_recovery_bench.py --runs 2
    nice -n 10 .venv/bin/python bench/pool_recovery_bench.py --config before --outage 60

Only 127.0.0.1; every loop bounded in time. Exits 1 when the `after` desk took longer than
--limit seconds to answer pages again.
"""

from __future__ import annotations

import argparse
import json
import smtplib
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from madoguchi.testing.desk_process import MailSink, ServedDesk, customer_mail  # noqa: E402
from madoguchi.testing.private_servers import private_postgres  # noqa: E402

PASSWORD = "pass-窓口-2026"
CONFIGS = {
    "before": {"MADOGUCHI_DB_HEALTH_CHECKS": "false", "MADOGUCHI_DB_POOL_RECONNECT_SECONDS": "300"},
    "after": {},
}


def page(url: str, cookie: str, timeout: float = 30) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Cookie": cookie}), timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0


def login(base: str) -> str:
    from madoguchi.chat.tests.servers import login_cookie

    return login_cookie(base, "admin", PASSWORD)


def smtp_accepts(port: int, number: int) -> bool:
    sender, raw = customer_mail(number)
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=120) as smtp:
            smtp.sendmail(sender, ["support@example.jp"], raw)
        return True
    except (OSError, smtplib.SMTPException):
        return False


def one_run(config: str, outage: float, seconds: float) -> dict[str, object]:
    with MailSink() as sink, private_postgres() as database, tempfile.TemporaryDirectory(prefix="pool-bench-") as folder:
        desk = ServedDesk.create(Path(folder) / "data", database.url, sink.port, MADOGUCHI_ADMIN_PASSWORD=PASSWORD,
                                 **CONFIGS[config])
        desk.start()
        try:
            cookie = login(desk.url)
            assert page(desk.url + "/", cookie) == 200
            assert smtp_accepts(desk.smtp_port, 1)
            database.stop()
            stopped = time.monotonic()
            during: list[int] = []
            while time.monotonic() - stopped < outage:  # an agent who keeps reloading
                during.append(page(desk.url + "/", cookie))
                time.sleep(1)
            # A sender that keeps trying through the outage, as a mail server does.
            mail_back: list[float] = []

            def send() -> None:
                deadline = time.monotonic() + seconds
                while time.monotonic() < deadline:
                    if smtp_accepts(desk.smtp_port, 2):
                        mail_back.append(time.monotonic())
                        return
                    time.sleep(0.5)

            database.start()
            back = time.monotonic()
            sender = threading.Thread(target=send, daemon=True)
            sender.start()
            statuses: list[int] = []
            pages_back = None
            while time.monotonic() - back < seconds:
                status = page(desk.url + "/", cookie)
                statuses.append(status)
                if status == 200:
                    pages_back = time.monotonic() - back
                    break
                time.sleep(0.2)
            sender.join(timeout=seconds)
            return {
                "config": config, "outage_s": outage, "during_outage": sorted(set(during)),
                "pages_back_after_s": None if pages_back is None else round(pages_back, 1),
                "answers_until_back": len(statuses),
                "smtp_back_after_s": round(mail_back[0] - back, 1) if mail_back else None,
            }
        finally:
            desk.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", choices=["before", "after", "both"], default="both")
    parser.add_argument("--outage", type=float, default=30.0)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=300.0, help="longest wait for the desk to answer again")
    parser.add_argument("--limit", type=float, default=15.0, help="`after` must answer pages within this")
    args = parser.parse_args()
    configs = ["before", "after"] if args.config == "both" else [args.config]
    slow = False
    for _run in range(args.runs):
        for config in configs:
            result = one_run(config, args.outage, args.seconds)
            print(json.dumps(result), flush=True)
            back = result["pages_back_after_s"]
            if config == "after" and (back is None or float(back) > args.limit):  # type: ignore[arg-type]
                slow = True
    sys.exit(1 if slow else 0)


if __name__ == "__main__":
    main()
