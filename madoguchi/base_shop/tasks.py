"""BASE's background jobs: the scheduled sync (checked each minute, run every
MADOGUCHI_SHOP_SYNC_MINUTES) and the sync an admin asks for."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from madoguchi.base_shop import client, services
from madoguchi.shop import sync


def _sync(scheduled: bool) -> str:
    if not client.authorised():
        return "not configured"
    if scheduled and not sync.due(services.SOURCE):
        return "not due"
    result = services.run_sync()
    return "skipped" if result is None else f"orders +{result.orders.created} ~{result.orders.updated}, products {result.products}"


@db_periodic_task(crontab(minute="*"))
def base_sync_job() -> str:
    return _sync(scheduled=True)


@db_task()
def base_sync_task() -> str:
    return _sync(scheduled=False)
