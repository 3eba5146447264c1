"""`kill -9` a worker of the scale mode while inbound mail arrives (issue 21, fault tests; the
1,000-mail version is bench/fault_bench.py). PostgreSQL and a private Redis, `serve
--no-worker`, `worker --listeners` (the SMTP receiver) and a second `worker`; 100 new customers'
mails arrive while each worker in turn is killed with SIGKILL and started again. Every mail
becomes one inbound message, in a case of its own, in the search index, and every customer gets
exactly one automatic answer at the shop's outgoing mail server. Runs in the suite's PostgreSQL
pass (`.ci/run` with CI=true); the embedded desk's version is jobs/tests/test_crash_recovery.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from madoguchi.chat.tests.servers import own_database
from madoguchi.testing.desk_process import MailSink
from madoguchi.testing.private_servers import private_redis, redis_bin
from madoguchi.testing.scale_desk import QUICK_SWEEPS, ScaleDesk, lost_or_doubled, scale_crash_run

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres") or redis_bin() is None,
    reason="the scale mode runs on PostgreSQL and Redis (the suite's PostgreSQL pass)",
)


def test_kill9_of_each_worker_during_100_mails_loses_nothing_and_answers_once(tmp_path: Path) -> None:
    with own_database("fault_scale") as database_url, private_redis() as redis, MailSink() as sink:
        desk = ScaleDesk.create(tmp_path / "data", database_url, redis.url, sink.port, **QUICK_SWEEPS)
        try:
            result = scale_crash_run(desk, sink, count=100, kills=2, target="both", settle_seconds=300)
        finally:
            desk.stop()
    print(result)
    assert [name for name, _ in result["killed_after_accepted"]] == ["worker", "worker-listeners"], result
    assert result["accepted"] == 100 and result["raw"] == 100 and result["raw_failed"] == 0, result
    assert result["inbound_messages"] == 100 and result["cases"] == 100, result
    assert result["not_answered"] == 0 and result["answered_twice_or_more"] == 0, result
    assert result["sink_duplicate_message_ids"] == 0 and result["messages_not_indexed"] == 0, result
    assert result["pending_work"] == 0 and lost_or_doubled(result) == 0, result
