"""Background work of the LINE channel: filing stored webhook events, sending replies."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from madoguchi.jobs import work
from madoguchi.line import ingest, outbound, quota


@work.handler(ingest.EVENTS_WORK)
def file_events(event_ids: list[str]) -> int:
    return ingest.file_events(event_ids)


@db_task()
def send_line_task(pk: int) -> None:
    outbound.send(pk)


@db_periodic_task(crontab(minute="*"))
def line_sweep_job() -> int:
    """Replies whose retry is due (a scheduled task lost with a stopped worker) go now."""
    return outbound.send_due()


@db_periodic_task(crontab(minute="7"))
def line_quota_job() -> int:
    """Each account's monthly message quota and use, for the admins' LINE page."""
    return quota.refresh_all()
