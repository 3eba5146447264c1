"""BASE's background jobs: the scheduled sync (every MADOGUCHI_SHOP_SYNC_MINUTES) and the sync an
admin asks for."""

from __future__ import annotations

from huey.contrib.djhuey import db_periodic_task, db_task

from madoguchi.base_shop import client, services
from madoguchi.shop import sync


def _sync() -> str:
    if not client.authorised():
        return "not configured"
    result = services.run_sync()
    return "skipped" if result is None else f"orders +{result.orders.created} ~{result.orders.updated}, products {result.products}"


@db_periodic_task(sync.every())
def base_sync_job() -> str:
    return _sync()


@db_task()
def base_sync_task() -> str:
    return _sync()
