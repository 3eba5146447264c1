"""Background work of the X channel: the scheduled fetch of mentions and DMs (checked each
minute, run every MADOGUCHI_X_FETCH_MINUTES), a fetch scheduled for the moment a rate limit
resets, filing the stored items, and posting replies."""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from madoguchi.jobs import work
from madoguchi.x_account import client, ingest, outbound

log = logging.getLogger(__name__)


@work.handler(ingest.ITEMS_WORK)
def file_items(keys: list[str]) -> int:
    return ingest.file_items(keys)


def _fetch() -> str:
    try:
        stored, wait_until = ingest.fetch()
    except ingest.FetchError as error:
        _after(error.wait_until)
        raise  # the run log (/settings/jobs/) shows why
    if _after(wait_until):
        return f"{stored} stored; rate limited until {wait_until:%H:%M:%S}"
    return f"{stored} stored"


def _after(wait_until: dt.datetime | None) -> bool:
    """The rate limit resets then: a fetch is scheduled for that moment, no thread sleeps."""
    if wait_until is None:
        return False
    x_fetch_task.schedule(eta=wait_until)
    return True


@db_periodic_task(crontab(minute="*"))
def x_fetch_job() -> str:
    if not client.configured():
        return "not configured"
    if not ingest.due(timezone.now()):
        return "not due"
    return _fetch()


@db_task()
def x_fetch_task() -> str:
    """A fetch at the moment a rate limit resets (skipped by the streams still waiting)."""
    return _fetch() if client.configured() else "not configured"


@db_task()
def send_x_task(pk: int) -> None:
    outbound.send(pk)


@db_periodic_task(crontab(minute="*"))
def x_sweep_job() -> int:
    """Replies whose retry is due (a scheduled task lost with a stopped worker) go now."""
    return outbound.send_due()
