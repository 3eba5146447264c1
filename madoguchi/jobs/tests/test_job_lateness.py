"""When the admins' page and `/healthz` call a periodic job late. A job run every quarter hour
that has not run yet in a desk started five minutes ago is not late: its first run is still
to come (CI once saw `/healthz` fail a freshly started desk for the classifier's retraining)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from madoguchi.jobs import registry
from madoguchi.jobs.models import JobRun
from madoguchi.jobs.status import job_statuses

RETRAIN = "madoguchi.triage.tasks.retrain_classifier_job"
SWEEP = "madoguchi.jobs.tasks.sweep_work_job"


def status_of(name: str, now: dt.datetime) -> bool:
    return {s.job.name: s for s in job_statuses(now)}[name].overdue(now)


@pytest.mark.django_db
def test_a_job_no_worker_has_started_is_late() -> None:
    assert status_of(RETRAIN, timezone.now())
    assert status_of(SWEEP, timezone.now())


@pytest.mark.django_db
def test_a_quarter_hourly_job_is_not_late_before_a_started_worker_had_the_time_to_run_it() -> None:
    registry.watch_periodic_jobs()
    started = JobRun.objects.get(name=RETRAIN).watched_since
    assert started is not None
    assert not status_of(RETRAIN, started + dt.timedelta(minutes=14))
    assert not status_of(RETRAIN, started + dt.timedelta(minutes=44))
    assert status_of(RETRAIN, started + dt.timedelta(minutes=46))
    # A job of every minute is late three minutes after its worker started without running it.
    assert not status_of(SWEEP, started + dt.timedelta(minutes=2))
    assert status_of(SWEEP, started + dt.timedelta(minutes=4))


@pytest.mark.django_db
def test_a_job_that_ran_is_judged_by_its_last_run_not_by_the_workers_start() -> None:
    now = timezone.now()
    JobRun.objects.create(name=RETRAIN, last_finished_at=now - dt.timedelta(hours=2))
    registry.watch_periodic_jobs()  # a worker restarted just now
    assert status_of(RETRAIN, now)
    JobRun.objects.filter(name=RETRAIN).update(last_finished_at=now - dt.timedelta(minutes=20))
    assert not status_of(RETRAIN, now)
