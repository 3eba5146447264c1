"""Keeping the search index (SearchDoc) up to date.

Cases, messages and customers are indexed by the worker: the signal receivers only note
(kind, id) on the writing transaction (`defer`, recorded with the write by jobs.work), and
after its commit the worker re-reads those rows and writes their documents (`index_refs`, the
handler in knowledge/tasks.py); what a crash interrupts is done by the jobs sweep.
Tokenising Japanese text (SudachiPy) and the upserts stay out of the transaction that files
a mail or saves a case, so a batch of 100 mails costs one task. A committed message is
findable as soon as the worker has run (normally well under a second); a rolled-back one
never is, since the worker finds no row for it. Articles and orders are rare writes and are
still indexed in their transaction (`save_doc`). The engine index follows the row by itself
(SQLite triggers / PostgreSQL generated column).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import transaction

from madoguchi.cases.models import Case, CaseTag, CustomFieldValue, Interaction
from madoguchi.customers.models import Customer
from madoguchi.jobs import work
from madoguchi.knowledge.models import Article, DocKind, SearchDoc
from madoguchi.knowledge.text import index_tokens, normalise
from madoguchi.shop.models import Order

INDEX_WORK = "knowledge.index"

BODY_CHARS = 4000
log = logging.getLogger(__name__)
# Kinds the worker indexes (see the module docstring); articles and orders are indexed in place.
DEFERRED_KINDS = (DocKind.CASE, DocKind.MESSAGE, DocKind.CUSTOMER)
DOC_FIELDS = ["case_id", "title", "body", "tokens", "at"]


def _doc(kind: str, ref_id: int, *, title: str, body: str, at: dt.datetime | None,
         case_id: int | None = None, extra: str = "") -> dict[str, Any]:
    title, body = normalise(title)[:300], normalise(body)[:BODY_CHARS]
    return {
        "kind": kind, "ref_id": ref_id, "case_id": case_id, "title": title, "body": body,
        "tokens": index_tokens(title, body, extra), "at": at,
    }


def case_doc(case: Case, labels: str = "") -> dict[str, Any]:
    """`labels`: the case's tag names and custom-field words (case_labels), findable like its text."""
    body = "\n".join(part for part in (case.complaint, case.solution, case.fact_order_number, case.fact_product) if part)
    return _doc(DocKind.CASE, case.pk, title=case.subject, body=body, at=case.received_at, case_id=case.pk,
                extra=labels)


def case_labels(case_ids: Iterable[int]) -> dict[int, str]:
    """Tag names and text/choice custom-field values of these cases, one string each, in two
    queries (a search for 「要返金」 or a 購入店舗 finds the cases that carry it)."""
    ids = list(case_ids)
    words: dict[int, list[str]] = defaultdict(list)
    for case_id, name in CaseTag.objects.filter(case_id__in=ids).values_list("case_id", "tag__name"):
        words[case_id].append(name)
    values = CustomFieldValue.objects.filter(case_id__in=ids).exclude(text="").values_list("case_id", "text")
    for case_id, text in values:
        words[case_id].append(text)
    return {case_id: " ".join(found) for case_id, found in words.items()}


def case_docs(cases: Iterable[Case]) -> list[dict[str, Any]]:
    cases = list(cases)
    labels = case_labels(case.pk for case in cases)
    return [case_doc(case, labels.get(case.pk, "")) for case in cases]


def message_doc(interaction: Interaction, subject: str) -> dict[str, Any]:
    return _doc(DocKind.MESSAGE, interaction.pk, title=subject, body=interaction.body,
                at=interaction.occurred_at, case_id=interaction.case_id)


def customer_doc(customer: Customer) -> dict[str, Any]:
    identities = " ".join(identity.display for identity in customer.identities.all())
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


def save_docs(docs: list[dict[str, Any]]) -> None:
    """Insert or replace many documents in one statement (the engine index follows by trigger
    on SQLite, by the generated column on PostgreSQL)."""
    if docs:
        SearchDoc.objects.bulk_create(
            [SearchDoc(**doc) for doc in docs], update_conflicts=True, unique_fields=["kind", "ref_id"],
            update_fields=DOC_FIELDS,
        )


def index_case(case: Case) -> None:
    save_doc(case_docs([case])[0])


def index_interaction(interaction: Interaction) -> None:
    save_doc(message_doc(interaction, interaction.case.subject))


# --- Indexing by the worker, after the commit -------------------------------------------------

def defer(kind: str, ref_id: int) -> None:
    """Index this case / message / customer once the current transaction has committed."""
    work.defer(INDEX_WORK, [(str(kind), ref_id)])


def docs_for(refs: Iterable[tuple[str, int]]) -> tuple[list[dict[str, Any]], dict[str, set[int]]]:
    """(documents of the rows that exist, {kind: ids of rows that no longer exist})."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for kind, ref_id in refs:
        wanted[kind].add(int(ref_id))
    docs: list[dict[str, Any]] = []
    found: dict[str, set[int]] = defaultdict(set)
    if wanted[DocKind.CASE]:
        cases = Case.objects.filter(pk__in=wanted[DocKind.CASE]).only(
            "pk", "subject", "complaint", "solution", "fact_order_number", "fact_product", "received_at"
        )
        for doc in case_docs(cases):
            docs.append(doc)
            found[DocKind.CASE].add(doc["ref_id"])
    if wanted[DocKind.MESSAGE]:
        messages = Interaction.objects.filter(pk__in=wanted[DocKind.MESSAGE]).select_related("case").only(
            "pk", "body", "occurred_at", "case_id", "case__subject"
        )
        for interaction in messages:
            docs.append(message_doc(interaction, interaction.case.subject))
            found[DocKind.MESSAGE].add(interaction.pk)
    if wanted[DocKind.CUSTOMER]:
        for customer in Customer.objects.filter(pk__in=wanted[DocKind.CUSTOMER]).prefetch_related("identities"):
            docs.append(customer_doc(customer))
            found[DocKind.CUSTOMER].add(customer.pk)
    # Orders and articles are indexed in their own transaction; they come here only when the
    # whole index is tokenised again (migration 0004).
    if wanted[DocKind.ORDER]:
        for order in Order.objects.filter(pk__in=wanted[DocKind.ORDER]).select_related("customer"):
            docs.append(order_doc(order))
            found[DocKind.ORDER].add(order.pk)
    if wanted[DocKind.ARTICLE]:
        for article in Article.objects.filter(pk__in=wanted[DocKind.ARTICLE]).prefetch_related("tags"):
            docs.append(article_doc(article))
            found[DocKind.ARTICLE].add(article.pk)
    missing = {kind: ids - found[kind] for kind, ids in wanted.items() if ids - found[kind]}
    return docs, missing


def index_refs(refs: Iterable[tuple[str, int]]) -> int:
    """Write the documents of these rows as they are now; drop those of rows that are gone.
    Safe to run twice or late: it always indexes the committed state."""
    docs, missing = docs_for(refs)
    with transaction.atomic():
        save_docs(docs)
        for kind, ids in missing.items():
            SearchDoc.objects.filter(kind=kind, ref_id__in=ids).delete()
    return len(docs)


def index_article(article: Article) -> None:
    save_doc(article_doc(article))


def all_docs() -> Iterator[dict[str, Any]]:
    """Every document the index should hold, built in batches (for `madoguchi reindex`)."""
    chunk: list[Case] = []
    for case in Case.objects.order_by("pk").iterator(chunk_size=2000):
        chunk.append(case)
        if len(chunk) == 2000:
            yield from case_docs(chunk)
            chunk = []
    yield from case_docs(chunk)
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
