"""Keeping the search index (SearchDoc) up to date.

Called synchronously from signal receivers, inside the transaction that wrote the case or
message, so a committed message is always findable and a rolled-back one never is. The
engine index follows the row by itself (SQLite triggers / PostgreSQL generated column).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.db import transaction

from madoguchi.cases.models import Case, Interaction
from madoguchi.customers.models import Customer
from madoguchi.knowledge.models import Article, DocKind, SearchDoc
from madoguchi.knowledge.text import index_tokens, normalise
from madoguchi.shop.models import Order

BODY_CHARS = 4000


def _doc(kind: str, ref_id: int, *, title: str, body: str, at: dt.datetime | None,
         case_id: int | None = None, extra: str = "") -> dict[str, Any]:
    title, body = normalise(title)[:300], normalise(body)[:BODY_CHARS]
    return {
        "kind": kind, "ref_id": ref_id, "case_id": case_id, "title": title, "body": body,
        "tokens": index_tokens(title, body, extra), "at": at,
    }


def case_doc(case: Case) -> dict[str, Any]:
    body = "\n".join(part for part in (case.complaint, case.solution, case.fact_order_number, case.fact_product) if part)
    return _doc(DocKind.CASE, case.pk, title=case.subject, body=body, at=case.received_at, case_id=case.pk)


def message_doc(interaction: Interaction, subject: str) -> dict[str, Any]:
    return _doc(DocKind.MESSAGE, interaction.pk, title=subject, body=interaction.body,
                at=interaction.occurred_at, case_id=interaction.case_id)


def customer_doc(customer: Customer) -> dict[str, Any]:
    identities = " ".join(identity.value for identity in customer.identities.all())
    return _doc(DocKind.CUSTOMER, customer.pk, title=customer.name, body=f"{customer.kana} {identities}".strip(),
                at=customer.created_at)


def order_doc(order: Order) -> dict[str, Any]:
    body = f"問い合わせ番号 {order.tracking_number} {order.get_carrier_display()} {order.customer.name}"
    return _doc(DocKind.ORDER, order.pk, title=order.number, body=body, at=order.ordered_at)


def article_doc(article: Article) -> dict[str, Any]:
    from madoguchi.knowledge.services import plain_text

    tags = " ".join(tag.name for tag in article.tags.all())
    return _doc(DocKind.ARTICLE, article.pk, title=article.title, body=plain_text(article.body),
                at=article.updated_at, extra=tags)


def save_doc(doc: dict[str, Any]) -> None:
    SearchDoc.objects.update_or_create(kind=doc["kind"], ref_id=doc["ref_id"], defaults=doc)


def remove_doc(kind: str, ref_id: int) -> None:
    SearchDoc.objects.filter(kind=kind, ref_id=ref_id).delete()


def index_case(case: Case) -> None:
    save_doc(case_doc(case))


def index_interaction(interaction: Interaction) -> None:
    save_doc(message_doc(interaction, interaction.case.subject))


def index_article(article: Article) -> None:
    save_doc(article_doc(article))


def all_docs() -> Iterator[dict[str, Any]]:
    """Every document the index should hold, built in batches (for `madoguchi reindex`)."""
    for case in Case.objects.order_by("pk").iterator(chunk_size=2000):
        yield case_doc(case)
    messages = Interaction.objects.select_related("case").only("pk", "body", "occurred_at", "case_id", "case__subject")
    for interaction in messages.order_by("pk").iterator(chunk_size=2000):
        yield message_doc(interaction, interaction.case.subject)
    for customer in Customer.objects.prefetch_related("identities").order_by("pk").iterator(chunk_size=2000):
        yield customer_doc(customer)
    for order in Order.objects.select_related("customer").order_by("pk").iterator(chunk_size=2000):
        yield order_doc(order)
    for article in Article.objects.prefetch_related("tags").order_by("pk").iterator(chunk_size=500):
        yield article_doc(article)


def reindex(batch: int = 1000) -> int:
    """Rebuild the whole index from the source tables; returns the number of documents."""
    count = 0
    with transaction.atomic():
        SearchDoc.objects.all().delete()
        buffer: list[SearchDoc] = []
        for doc in all_docs():
            buffer.append(SearchDoc(**doc))
            if len(buffer) >= batch:
                SearchDoc.objects.bulk_create(buffer)
                count += len(buffer)
                buffer = []
        SearchDoc.objects.bulk_create(buffer)
        count += len(buffer)
    return count
