"""What the admins' page of background jobs shows: each job's last run, next run and last
error, the task queue, and work left over (PendingWork). Cheap at any size: one row per job,
counts of the leftover table bounded."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Min, Q
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from madoguchi.jobs import registry
from madoguchi.jobs.models import JobRun, PendingWork

log = logging.getLogger(__name__)


@dataclass
class JobStatus:
    job: registry.Job
    run: JobRun | None

    @property
    def failing(self) -> bool:
        run = self.run
        return bool(run and run.last_failed_at and (run.last_succeeded_at is None or run.last_failed_at > run.last_succeeded_at))

    def overdue(self, now: dt.datetime) -> bool:
        """A periodic job that has not finished for three of its periods (at least 3 minutes):
        the consumer is not running or is stuck. One that never ran is late when no worker has
        started, or when a worker started three of its periods ago: a job run every quarter
        hour is not late in a desk started five minutes ago. A job that runs less than hourly
        (the daily backup) is late an hour after a missed run, and not before its first."""
        if not self.job.periodic:
            return False
        last = self.run.last_finished_at if self.run else None
        period = self.job.period or dt.timedelta(minutes=1)
        if period > dt.timedelta(hours=1):
            return last is not None and now - last > period + dt.timedelta(hours=1)
        since = last or (self.run.watched_since if self.run else None)
        return since is None or now - since > max(3 * period, dt.timedelta(minutes=3))


def job_statuses(now: dt.datetime | None = None) -> list[JobStatus]:
    runs = {run.name: run for run in JobRun.objects.all()}
    return [JobStatus(job, runs.get(job.name)) for job in registry.jobs(now)]


def leftover_work() -> list[dict[str, Any]]:
    rows = PendingWork.objects.values("key").annotate(
        count=Count("id"), oldest=Min("created_at"), failing=Count("id", filter=~Q(last_error="")),
    ).order_by("key")
    return [dict(row) for row in rows]


def recent_errors(limit: int = 10) -> list[PendingWork]:
    return list(PendingWork.objects.exclude(last_error="").order_by("-pk")[:limit])


def queue_sizes() -> dict[str, int | None]:
    """The task queue's backlog; None when the queue cannot be read (Redis down)."""
    try:
        return {"pending": HUEY.pending_count(), "scheduled": HUEY.scheduled_count()}
    except Exception:  # noqa: BLE001 - the queue backend's own error
        log.warning("jobs: cannot read the task queue", exc_info=True)
        return {"pending": None, "scheduled": None}


def page_context() -> dict[str, Any]:
    now = timezone.now()
    statuses = job_statuses(now)
    return {
        "now": now,
        "periodic": [(s, s.overdue(now)) for s in statuses if s.job.periodic],
        "tasks": [s for s in statuses if not s.job.periodic],
        "leftover": leftover_work(),
        "errors": recent_errors(),
        "queue": queue_sizes(),
        "embedded_worker": not HUEY.immediate,
    }
