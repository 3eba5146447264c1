"""The worker's side of outbound webhooks (see webhooks.py)."""

from __future__ import annotations

from typing import Any

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from madoguchi.api import webhooks


@db_task()
def fan_out_task(items: list[Any]) -> int:
    pks = webhooks.fan_out([tuple(item) for item in items])
    for pk in pks:
        deliver_task(pk)
    return len(pks)


@db_task()
def deliver_task(pk: int) -> None:
    delay = webhooks.attempt(pk)
    if delay is not None:
        deliver_task.schedule((pk,), delay=delay.total_seconds())


@db_periodic_task(crontab(minute="*"))
def webhook_sweep_job() -> int:
    """Deliveries whose queued attempt was lost (a worker killed) are tried again."""
    pks = webhooks.overdue()
    for pk in pks:
        deliver_task(pk)
    return len(pks)
