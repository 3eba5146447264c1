"""The worker's side of an order file uploaded on the admins' page."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from madoguchi.shop import uploads


# No retries: a file is imported once; what failed is on the run's page for the admin to see.
@db_task()
def import_orders_task(run_id: int) -> None:
    uploads.run_upload(run_id)
