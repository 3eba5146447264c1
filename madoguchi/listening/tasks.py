"""The worker's side of listening: an uploaded file's import, the spike check, live sources."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from madoguchi.listening import sources, spikes, uploads


# No retries: a file is imported once; what failed is on the run's page.
@db_task()
def import_posts_task(run_id: int) -> None:
    uploads.run_upload(run_id)


@db_periodic_task(crontab(minute="*/5"))
def listening_spikes_job() -> int:
    return len(spikes.check_spikes())


@db_periodic_task(crontab(minute="*/15"))
def poll_sources_job() -> dict[str, int]:
    return sources.poll()
