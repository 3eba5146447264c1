"""The fans list (ファン) and the win-back list (取り戻したいお客様), read by keyset.

Each page is one range scan of a partial index of CustomerFigures (`fans_recent`,
`fans_win_back`) joined by primary key to the customer, plus one query for the page's
contact addresses: no OFFSET, no COUNT, and no filter outside the index, so page 1,000 costs
what page 1 does, at any number of customers. Filters narrow the index range (how recent
the last order, how long since the resolution)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from madoguchi.customers.models import Identity, IdentityKind
from madoguchi.fans.figures import Rule
from madoguchi.fans.models import CustomerFigures

PAGE_SIZE = 50
EXPORT_CHUNK = 1000


@dataclass
class Page:
    rows: list[CustomerFigures]
    next_cursor: str  # "" on the last page


def encode(moment: dt.datetime | None, pk: int) -> str:
    return f"{moment.isoformat() if moment else ''}_{pk}"


def decode(cursor: str) -> tuple[dt.datetime, int] | None:
    """A cursor from our own link; anything else (typed, cut off) starts from the first page."""
    moment, _sep, pk = (cursor or "").rpartition("_")
    parsed = parse_datetime(moment) if moment else None
    if parsed is None or not pk.isdigit() or timezone.is_naive(parsed):
        return None
    return parsed, int(pk)


def _with_contacts(rows: Any) -> Any:
    contacts = Identity.objects.filter(kind__in=(IdentityKind.EMAIL, IdentityKind.PHONE)).order_by("kind", "pk")
    return rows.select_related("customer").prefetch_related(Prefetch("customer__identities", queryset=contacts))


def fans(current: Rule, *, within_days: int | None = None, now: dt.datetime | None = None) -> Any:
    """Fans under the rule, newest purchase first. `within_days` narrows the recency."""
    days = min(current.recency_days, within_days) if within_days else current.recency_days
    since = (now or timezone.now()) - dt.timedelta(days=days)
    return CustomerFigures.objects.filter(is_fan=True, last_order_at__gte=since).order_by("-last_order_at", "-customer_id")


def fans_page(current: Rule, cursor: str = "", *, within_days: int | None = None, size: int = PAGE_SIZE) -> Page:
    rows = fans(current, within_days=within_days)
    after = decode(cursor)
    if after:
        moment, pk = after
        rows = rows.filter(Q(last_order_at__lt=moment) | Q(last_order_at=moment, customer_id__lt=pk))
    found = list(_with_contacts(rows)[: size + 1])
    more = len(found) > size
    found = found[:size]
    return Page(found, encode(found[-1].last_order_at, found[-1].customer_id) if more else "")


def win_back(*, min_days: int | None = None, max_days: int | None = None, now: dt.datetime | None = None) -> Any:
    """Customers whose complaint was resolved and who have not ordered since, the longest
    waiting first. `min_days`/`max_days`: days since the resolution."""
    now = now or timezone.now()
    rows = CustomerFigures.objects.filter(win_back=True)
    if min_days:
        rows = rows.filter(last_resolved_at__lte=now - dt.timedelta(days=min_days))
    if max_days:
        rows = rows.filter(last_resolved_at__gte=now - dt.timedelta(days=max_days))
    return rows.order_by("last_resolved_at", "customer_id")


def win_back_page(cursor: str = "", *, min_days: int | None = None, max_days: int | None = None,
                  size: int = PAGE_SIZE) -> Page:
    rows = win_back(min_days=min_days, max_days=max_days)
    after = decode(cursor)
    if after:
        moment, pk = after
        rows = rows.filter(Q(last_resolved_at__gt=moment) | Q(last_resolved_at=moment, customer_id__gt=pk))
    found = list(_with_contacts(rows)[: size + 1])
    more = len(found) > size
    found = found[:size]
    return Page(found, encode(found[-1].last_resolved_at, found[-1].customer_id) if more else "")


def contacts(row: CustomerFigures) -> tuple[str, str]:
    """The customer's first e-mail address and phone number (from the prefetched identities)."""
    email = phone = ""
    for identity in row.customer.identities.all():
        if identity.kind == IdentityKind.EMAIL and not email:
            email = identity.value
        elif identity.kind == IdentityKind.PHONE and not phone:
            phone = identity.display
    return email, phone


def days_since(moment: dt.datetime | None, now: dt.datetime | None = None) -> int | None:
    if moment is None:
        return None
    today = timezone.localdate(now or timezone.now())
    return (today - timezone.localdate(moment)).days


def every_page(first: Any) -> Iterator[CustomerFigures]:
    """All rows of a list for the CSV export, a chunk of EXPORT_CHUNK per query (keyset)."""
    cursor = ""
    while True:
        page = first(cursor, EXPORT_CHUNK)
        yield from page.rows
        if not page.next_cursor:
            return
        cursor = page.next_cursor
