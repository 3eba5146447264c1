"""Notifications by mail: sent after the commit that raised them, digests and leftovers by the
minute job, and the leads' daily summary (madoguchi.notifications.mailing, .summary)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from madoguchi.notifications import mailing, summary


@db_task()
def send_notification_mails_task() -> int:
    return mailing.send_due()


@db_periodic_task(crontab(minute="*"))
def notification_mails_job() -> int:
    """Digests whose window ended, and events a lost task left."""
    return mailing.send_due()


@db_periodic_task(crontab(minute="*"))
def daily_summary_job() -> int:
    """Each lead's daily summary, at the time they chose (checked every minute)."""
    return summary.send_daily_summaries()
