"""Periodic jobs of the case desk."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from madoguchi.cases.services import escalate_overdue_commitments


@db_periodic_task(crontab(minute="*"))
def escalate_overdue_commitments_job() -> int:
    return escalate_overdue_commitments()
