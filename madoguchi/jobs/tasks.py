"""The worker's side of deferred work (work.py)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from madoguchi.jobs import work


# No retries of its own: rows that fail back off and the sweep takes them when due.
@db_task()
def complete_work_task(pks: list[int]) -> int:
    return work.complete(pks)


@db_periodic_task(crontab(minute="*"))
def sweep_work_job() -> int:
    return work.sweep()
