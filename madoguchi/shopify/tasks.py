"""Shopify's background jobs: the scheduled sync (checked each minute, run every
MADOGUCHI_SHOP_SYNC_MINUTES), the sync an admin asks for, and the processing of each stored webhook."""

from __future__ import annotations

import datetime as dt

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from madoguchi.jobs import work
from madoguchi.shop import sync
from madoguchi.shop.platform_http import PlatformError
from madoguchi.shopify import client, discounts, services

WEBHOOK_GRACE = dt.timedelta(minutes=2)


work.handler(discounts.DISCOUNT_WORK)(discounts.handle)


@db_periodic_task(crontab(minute="*"))
def shopify_sync_job() -> str:
    if not client.configured():
        return "not configured"
    for pk in services.pending_deliveries(WEBHOOK_GRACE):
        try:
            services.process_delivery(pk)
        except PlatformError:
            break  # Shopify is down: the sync below records why, the rest wait for the next run
    if not sync.due(services.SOURCE):
        return "not due"
    result = services.run_sync()
    return "skipped" if result is None else f"orders +{result.orders.created} ~{result.orders.updated}, products {result.products}"


@db_task()
def shopify_sync_task() -> str:
    result = services.run_sync() if client.configured() else None
    return "skipped" if result is None else f"orders +{result.orders.created} ~{result.orders.updated}"


# A try that met an outage is tried again twice; after that the scheduled job picks it up.
@db_task(retries=2, retry_delay=30)
def process_webhook_task(pk: int) -> str:
    return services.process_delivery(pk)
