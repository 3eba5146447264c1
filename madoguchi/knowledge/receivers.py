"""Signal receivers: keep the search index in step with cases, messages, customers and
orders (in the writing transaction), and send the after-hours first answer."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save

from madoguchi.cases import signals
from madoguchi.customers.models import Customer, Identity
from madoguchi.knowledge import indexing
from madoguchi.shop.models import Order


def on_case_created(sender: Any, case: Any, **kwargs: Any) -> None:
    indexing.index_case(case)


def on_case_status_changed(sender: Any, case: Any, **kwargs: Any) -> None:
    # Subject, solution and facts are usually settled by the time the status moves.
    indexing.index_case(case)


def on_interaction_added(sender: Any, interaction: Any, **kwargs: Any) -> None:
    indexing.index_interaction(interaction)
    from madoguchi.knowledge.afterhours import maybe_answer_after_hours

    maybe_answer_after_hours(interaction)


def on_customer_saved(sender: Any, instance: Customer, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        indexing.save_doc(indexing.customer_doc(instance))


def on_identity_saved(sender: Any, instance: Identity, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        indexing.save_doc(indexing.customer_doc(instance.customer))


def on_order_saved(sender: Any, instance: Order, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        indexing.save_doc(indexing.order_doc(instance))


def connect() -> None:
    signals.case_created.connect(on_case_created, dispatch_uid="knowledge_case_created")
    signals.case_status_changed.connect(on_case_status_changed, dispatch_uid="knowledge_case_status")
    signals.interaction_added.connect(on_interaction_added, dispatch_uid="knowledge_interaction_added")
    post_save.connect(on_customer_saved, sender=Customer, dispatch_uid="knowledge_customer_saved")
    post_save.connect(on_identity_saved, sender=Identity, dispatch_uid="knowledge_identity_saved")
    post_save.connect(on_order_saved, sender=Order, dispatch_uid="knowledge_order_saved")
