"""With several workers on Redis, each scheduled run of a periodic job runs once (issue 21:
every consumer has a scheduler of its own; two workers ran every minute job twice)."""

from __future__ import annotations

import pytest
from huey import RedisHuey, SqliteHuey

from madoguchi.chat.tests.servers import REDIS_TEST_URL, redis_available
from madoguchi.jobs.registry import claim_scheduled_run
from madoguchi.jobs.tasks import sweep_work_job

pytestmark = pytest.mark.skipif(not redis_available(), reason="Redis is not running on 127.0.0.1:6379")


def copies(count: int) -> list[object]:
    """What `count` workers' schedulers enqueue at the top of one minute: a copy each."""
    return [sweep_work_job.task_class() for _ in range(count)]


def test_two_workers_copies_of_one_minutes_run_run_once() -> None:
    huey = RedisHuey("madoguchi-test-periodic", url=REDIS_TEST_URL)
    for key in huey.storage.conn.scan_iter("madoguchi-test-periodic.periodic.*"):
        huey.storage.conn.delete(key)
    minute = 29_000_000 * 60.0
    first, second = copies(2)
    assert claim_scheduled_run(huey, first, now=minute + 1)
    assert not claim_scheduled_run(huey, second, now=minute + 4)  # the other worker, a little later
    assert claim_scheduled_run(huey, copies(1)[0], now=minute + 61)  # the next minute runs again


def test_a_single_sqlite_consumer_and_ordinary_tasks_are_never_held(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sqlite = SqliteHuey("madoguchi-test-periodic", filename=str(tmp_path / "tasks.sqlite3"))
    assert all(claim_scheduled_run(sqlite, task, now=60.0) for task in copies(2))
    from madoguchi.jobs.tasks import complete_work_task

    redis_huey = RedisHuey("madoguchi-test-periodic", url=REDIS_TEST_URL)
    assert all(claim_scheduled_run(redis_huey, complete_work_task.s([1])) for _ in range(2))
