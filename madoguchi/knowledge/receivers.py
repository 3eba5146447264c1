"""Signal receivers: keep the search index in step with cases, messages, customers and
orders, and send the after-hours first answer.

Cases, messages and customers are only noted here (cheap, no query); the worker indexes them
after the commit, one task per transaction (indexing.defer). Orders are indexed in place.
The after-hours answer is decided and sent by the worker too (afterhours.maybe_answer_after_hours)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from madoguchi.cases import signals
from madoguchi.cases.models import Case, CaseTag, CustomFieldValue
from madoguchi.customers.models import Customer, Identity
from madoguchi.knowledge import indexing, suggestions
from madoguchi.knowledge.models import DocKind
from madoguchi.shop.models import Order


def on_case_created(sender: Any, case: Any, **kwargs: Any) -> None:
    indexing.defer(DocKind.CASE, case.pk)
    suggestions.defer_refresh(case.pk)  # ranked by the worker before an agent opens the case


def on_interaction_added(sender: Any, interaction: Any, **kwargs: Any) -> None:
    indexing.defer(DocKind.MESSAGE, interaction.pk)
    from madoguchi.knowledge.afterhours import maybe_answer_after_hours

    maybe_answer_after_hours(interaction)


def on_case_saved(sender: Any, instance: Case, created: bool = False, raw: bool = False, **kwargs: Any) -> None:
    # Edits through do_update_case (subject, solution, facts) send no signal of their own;
    # a new case is indexed by case_created, once its first message exists.
    if not created and not raw:
        indexing.defer(DocKind.CASE, instance.pk)
        fields = kwargs.get("update_fields")
        if fields is None or {"subject", "complaint"} & set(fields):
            suggestions.defer_refresh(instance.pk)  # the worker ranks again only if the complaint changed


def on_case_label_changed(sender: Any, instance: CaseTag | CustomFieldValue, raw: bool = False, **kwargs: Any) -> None:
    """A tag put on or taken off, a custom field set or cleared: the case's words changed
    (labels only touch `updated_at` by a queryset update, which sends no post_save)."""
    if not raw:
        indexing.defer(DocKind.CASE, instance.case_id)


def on_customer_saved(sender: Any, instance: Customer, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        indexing.defer(DocKind.CUSTOMER, instance.pk)


def on_identity_saved(sender: Any, instance: Identity, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        indexing.defer(DocKind.CUSTOMER, instance.customer_id)


def on_order_saved(sender: Any, instance: Order, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        indexing.save_doc(indexing.order_doc(instance))


def connect() -> None:
    signals.case_created.connect(on_case_created, dispatch_uid="knowledge_case_created")
    signals.interaction_added.connect(on_interaction_added, dispatch_uid="knowledge_interaction_added")
    post_save.connect(on_case_saved, sender=Case, dispatch_uid="knowledge_case_saved")
    for label in (CaseTag, CustomFieldValue):
        post_save.connect(on_case_label_changed, sender=label, dispatch_uid=f"knowledge_{label.__name__}_saved")
        post_delete.connect(on_case_label_changed, sender=label, dispatch_uid=f"knowledge_{label.__name__}_deleted")
    post_save.connect(on_customer_saved, sender=Customer, dispatch_uid="knowledge_customer_saved")
    post_save.connect(on_identity_saved, sender=Identity, dispatch_uid="knowledge_identity_saved")
    post_save.connect(on_order_saved, sender=Order, dispatch_uid="knowledge_order_saved")
