"""Reading arriving messages (deferred work) and retraining the shop's model (periodic)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from madoguchi.jobs import work
from madoguchi.triage import services


@work.handler(services.READ_WORK)
def read_messages(interaction_pks: list[int]) -> int:
    return services.read_interactions(interaction_pks)


@db_periodic_task(crontab(minute="*/15"))
def retrain_classifier_job() -> str:
    return services.retrain_if_stale()
