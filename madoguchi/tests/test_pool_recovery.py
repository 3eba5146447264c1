"""The desk answers again within seconds of PostgreSQL coming back (issue 21, fault tests).
`serve` takes its connections from psycopg's pool; PostgreSQL (a private server,
madoguchi/testing/private_servers.py) is stopped for 30 s while an agent keeps reloading the
inbox. Before the pool was configured (settings: connections checked when taken, a failed
reconnect given up after MADOGUCHI_DB_POOL_RECONNECT_SECONDS and begun again by the next
request) the inbox stayed 503 for 24 s after the server was back: psycopg_pool's reconnect
waits double after each failure (bench/pool_recovery_bench.py, docs/benchmarks.md)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from madoguchi.chat.tests.servers import PASSWORD, login_cookie
from madoguchi.testing.desk_process import MailSink, ServedDesk, page_status
from madoguchi.testing.private_servers import postgres_bin, private_postgres

pytestmark = pytest.mark.skipif(postgres_bin() is None, reason="PostgreSQL's server programs are not installed")
OUTAGE_SECONDS = 30
BACK_WITHIN_SECONDS = 10


@pytest.mark.own_database
def test_the_inbox_answers_within_seconds_of_postgresql_coming_back(tmp_path: Path) -> None:
    with MailSink() as sink, private_postgres() as database:
        desk = ServedDesk.create(tmp_path / "data", database.url, sink.port, MADOGUCHI_ADMIN_PASSWORD=PASSWORD)
        desk.start()
        try:
            cookie = login_cookie(desk.url, "admin", PASSWORD)
            assert page_status(desk.url + "/", cookie) == 200
            database.stop()
            stopped = time.monotonic()
            during = set()
            while time.monotonic() - stopped < OUTAGE_SECONDS:  # an agent who keeps reloading
                during.add(page_status(desk.url + "/", cookie))
                time.sleep(1)
            database.start()
            back = time.monotonic()
            status = page_status(desk.url + "/", cookie)
            while status != 200 and time.monotonic() - back < 120:
                time.sleep(0.2)
                status = page_status(desk.url + "/", cookie)
            took = time.monotonic() - back
        finally:
            desk.stop()
    print(f"inbox answered 200 {took:.1f} s after PostgreSQL was back")
    assert during == {503}  # the Japanese "try again shortly" page while it was away
    assert status == 200 and took < BACK_WITHIN_SECONDS, took
