"""The worker's side of an order file uploaded on the admins' page."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from madoguchi.jobs import work
from madoguchi.shop import desk, uploads


# No retries: a file is imported once; what failed is on the run's page for the admin to see.
@db_task()
def import_orders_task(run_id: int) -> None:
    uploads.run_upload(run_id)


@work.handler(desk.AUTO_LINK_WORK)
def auto_link(interaction_pks: list[int]) -> int:
    """Link the cases of customer messages that name one of their orders (shop/desk.py)."""
    return desk.auto_link(interaction_pks)
