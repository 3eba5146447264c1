"""The weekly prevention digest, checked every minute (sent once a week: madoguchi.prevention.digest)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from madoguchi.prevention import digest


@db_periodic_task(crontab(minute="*"))
def weekly_digest_job() -> int:
    return digest.send_weekly_digest()
