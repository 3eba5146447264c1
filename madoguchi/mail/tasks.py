"""Background jobs of the mail channel (Huey)."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from madoguchi.mail import held, imap, ingest, outbound, receivers


@db_task(retries=3, retry_delay=30)
def process_raw_message_task(pk: int) -> str:
    """File this mail and the others waiting with it, in one transaction (ingest.process_pending)."""
    return str(ingest.process_pending(pk))


@db_task()
def send_outbound_task(pk: int) -> None:
    outbound.send_outbound(pk)


@db_task()
def release_held_reply_task(pk: int) -> bool:
    """Queued with a scheduled reply's time (ETA): send it if it is still due (mail.held)."""
    return held.release(pk)


log = logging.getLogger(__name__)
SWEEP_SECONDS = 45


@db_periodic_task(crontab(minute="*"))
def mail_sweep_job() -> None:
    """Catch up after a crash or a stopped worker: unprocessed mail, unsent mail, reminders."""
    older_than = dt.timedelta(seconds=settings.MAIL_SWEEP_AFTER_SECONDS)
    # A backlog (a desk that was down while 1,000 mails waited) is worked off in rounds within
    # the minute, not one batch a minute.
    # Each part on its own: one that fails (logged) does not stop the others.
    deadline = time.monotonic() + SWEEP_SECONDS
    _until_done_or(deadline, lambda: ingest.sweep_pending(older_than=older_than, batch=200) >= 200)
    _until_done_or(deadline, lambda: held.release_due(batch=100) >= 100)  # scheduled replies a lost task left
    _until_done_or(deadline, lambda: outbound.send_due(batch=100) >= 100)
    _until_done_or(deadline, lambda: bool(receivers.remind_commitments()) and False)  # once


def _until_done_or(deadline: float, step: Callable[[], bool]) -> None:
    """Run `step` while it says a full round was done (more may wait) and the deadline has not
    passed. A round that found less than a full batch ends it: what it could not do (a mail
    another worker is filing, a send that failed) waits for the next minute, not a busy loop."""
    try:
        while time.monotonic() < deadline and step():
            pass
    except Exception:  # noqa: BLE001 - logged; the next minute tries again
        log.exception("mail: sweep step failed")


@db_periodic_task(crontab(minute="*"))
def poll_mailboxes_job() -> int:
    return imap.poll_due_mailboxes()
