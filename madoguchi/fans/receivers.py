"""Keep each customer's figures in step with their orders and cases.

Every write that changes a customer's orders or cases leaves, once per transaction and
customer, a deferred `fans.figures` work item (jobs.work: written in the same transaction,
done by the worker after the commit, redone by the sweep if a worker dies). The handler
recounts from the committed rows, so whatever else the transaction changed is counted too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models.signals import post_delete, post_save

from madoguchi import after_commit
from madoguchi.fans.figures import FIGURES_WORK, REBUILD_WORK, handle_figures, handle_rebuild


def touch(customer_ids: Iterable[int | None]) -> None:
    from madoguchi.jobs import work

    fresh = [pk for pk in customer_ids if pk is not None and after_commit.first_in_transaction((FIGURES_WORK, pk))]
    work.defer(FIGURES_WORK, fresh)


def _order_or_case_changed(sender: Any, instance: Any, **_kwargs: Any) -> None:
    touch([instance.customer_id])


def _case_event(sender: Any, case: Any, **_kwargs: Any) -> None:
    touch([case.customer_id])  # sent for bulk-created cases and status changes written by .update()


def _orders_written(sender: Any, customer_ids: Iterable[int], **_kwargs: Any) -> None:
    touch(customer_ids)


def _customer_saved(sender: Any, instance: Any, update_fields: Any = None, created: bool = False, **_kwargs: Any) -> None:
    """A merge moves cases and orders with .update() and then saves merged_into: both sides."""
    if instance.merged_into_id and (update_fields is None or "merged_into" in update_fields):
        touch([instance.pk, instance.merged_into_id])


def connect() -> None:
    from madoguchi.cases import signals as case_signals
    from madoguchi.cases.models import Case
    from madoguchi.customers.models import Customer
    from madoguchi.jobs import work
    from madoguchi.shop.models import Order
    from madoguchi.shop.signals import orders_written

    work.handler(FIGURES_WORK)(handle_figures)
    work.handler(REBUILD_WORK)(handle_rebuild)
    for model in (Order, Case):
        post_save.connect(_order_or_case_changed, sender=model, dispatch_uid=f"fans-{model.__name__}-saved")
        post_delete.connect(_order_or_case_changed, sender=model, dispatch_uid=f"fans-{model.__name__}-deleted")
    case_signals.case_created.connect(_case_event, dispatch_uid="fans-case-created")
    case_signals.case_status_changed.connect(_case_event, dispatch_uid="fans-case-status")
    orders_written.connect(_orders_written, dispatch_uid="fans-orders-written")
    post_save.connect(_customer_saved, sender=Customer, dispatch_uid="fans-customer-merged")
