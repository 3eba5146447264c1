"""Periodic jobs of the customer's status page."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from madoguchi.progress.services import prepare_late_notices


@db_periodic_task(crontab(minute="*"))
def prepare_late_notices_job() -> int:
    return prepare_late_notices()
