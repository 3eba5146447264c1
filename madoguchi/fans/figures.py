"""Per-customer figures, rebuilt from the orders and cases of the customers that changed.

`recompute(ids)` is idempotent and set-based (two grouped aggregates and one upsert for any
number of customers), so it serves a single web write, a batch of imported orders and a full
rebuild alike. Receivers (receivers.py) call it inside the writing transaction for a single
write, and defer it to the worker (`jobs.work`) for batch writers (mail filing, order import).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Max, Min, Q, Sum
from django.utils import timezone

from madoguchi.fans.models import CustomerFigures, FanRule

# Work keys (jobs.work): customer ids to recompute; (first id, last id) ranges for a rebuild.
FIGURES_WORK = "fans.figures"
REBUILD_WORK = "fans.rebuild"
REBUILD_CHUNK = 1000

PURCHASE_STATUSES = ("paid", "fulfilled", "refunded")
# An order counts as a purchase when paid or shipped, or refunded only in part.
COUNTED_ORDER = Q(status__in=("paid", "fulfilled")) | Q(status="refunded", refunded_yen__lt=F("amount_yen"))
DONE_STATUSES = ("resolved", "closed")


@dataclass(frozen=True)
class Rule:
    recency_days: int
    min_orders: int
    min_spent_yen: int
    not_complaints: frozenset[int]


def rule() -> Rule:
    found = FanRule.objects.filter(pk=1).first()
    if found is None:
        defaults = FanRule()
        return Rule(defaults.recency_days, defaults.min_orders, defaults.min_spent_yen, frozenset())
    ids = frozenset(found.not_complaints.values_list("pk", flat=True))
    return Rule(found.recency_days, found.min_orders, found.min_spent_yen, ids)


def is_fan(row: CustomerFigures, current: Rule) -> bool:
    """Recency is left out: it changes with the clock, so the list applies it when read."""
    return (row.complaint_count == 0 and row.order_count >= max(current.min_orders, 1)
            and row.spent_yen >= current.min_spent_yen)


def is_win_back(row: CustomerFigures) -> bool:
    return (row.last_resolved_at is not None and row.open_complaint_count == 0
            and (row.last_order_at is None or row.last_order_at < row.last_resolved_at))


FIELDS = ["order_count", "spent_yen", "first_order_at", "last_order_at", "case_count", "complaint_count",
          "open_complaint_count", "last_resolved_at", "last_resolved_case_id", "is_fan", "win_back", "updated_at"]


def compute(customer_ids: Iterable[int], current: Rule | None = None) -> list[CustomerFigures]:
    """The figures of these customers as the orders and cases say now (not saved)."""
    from madoguchi.cases.models import Case
    from madoguchi.shop.models import Order

    ids = sorted(set(customer_ids))
    if not ids:
        return []
    current = current or rule()
    rows = {pk: CustomerFigures(customer_id=pk) for pk in ids}
    for values in (
        Order.objects.filter(customer_id__in=ids, status__in=PURCHASE_STATUSES).values("customer_id").order_by()
        .annotate(count=Count("id", filter=COUNTED_ORDER), spent=Sum(F("amount_yen") - F("refunded_yen")),
                  first=Min("ordered_at", filter=COUNTED_ORDER), last=Max("ordered_at", filter=COUNTED_ORDER))
    ):
        row = rows[values["customer_id"]]
        row.order_count, row.spent_yen = values["count"], max(int(values["spent"] or 0), 0)
        row.first_order_at, row.last_order_at = values["first"], values["last"]
    complaint = ~Q(category_id__in=current.not_complaints) if current.not_complaints else Q()
    done = complaint & Q(status__in=DONE_STATUSES, resolved_at__isnull=False)
    for counts in (
        Case.objects.filter(customer_id__in=ids).values("customer_id").order_by()
        .annotate(cases=Count("id"), complaints=Count("id", filter=complaint),
                  open=Count("id", filter=complaint & ~Q(status__in=DONE_STATUSES)),
                  resolved=Max("resolved_at", filter=done))
    ):
        row = rows[counts["customer_id"]]
        row.case_count, row.complaint_count = counts["cases"], counts["complaints"]
        row.open_complaint_count, row.last_resolved_at = counts["open"], counts["resolved"]
    resolved = [row for row in rows.values() if row.last_resolved_at is not None]
    if resolved:
        # The case behind each latest resolution (for the link): one query for all of them.
        wanted = {(row.customer_id, row.last_resolved_at): row for row in resolved}
        for customer_id, at, pk in (Case.objects.filter(done, customer_id__in=[row.customer_id for row in resolved])
                                    .values_list("customer_id", "resolved_at", "pk").order_by("pk")):
            match = wanted.get((customer_id, at))
            if match is not None:
                match.last_resolved_case_id = pk
    now = timezone.now()
    for row in rows.values():
        row.is_fan = is_fan(row, current)
        row.win_back = is_win_back(row)
        row.updated_at = now
    return list(rows.values())


def recompute(customer_ids: Iterable[int], current: Rule | None = None) -> int:
    """Rebuild and store the figures of these customers (one upsert). A customer with neither
    orders nor cases keeps a row of zeros, so a merged-away record stops counting."""
    rows = compute(customer_ids, current)
    if rows:
        CustomerFigures.objects.bulk_create(rows, update_conflicts=True, unique_fields=["customer"], update_fields=FIELDS)
    return len(rows)


def rebuild_ranges(first: int, last: int, chunk: int = REBUILD_CHUNK) -> list[tuple[int, int]]:
    return [(start, min(start + chunk - 1, last)) for start in range(first, last + 1, chunk)]


def all_ranges() -> list[tuple[int, int]]:
    from madoguchi.customers.models import Customer

    bounds = Customer.objects.aggregate(first=Min("pk"), last=Max("pk"))
    if bounds["first"] is None:
        return []
    return rebuild_ranges(bounds["first"], bounds["last"])


def rebuild_range(start: int, end: int, current: Rule | None = None) -> int:
    """Every customer with an order or a case (or a row already) whose id is in [start, end]."""
    from madoguchi.cases.models import Case
    from madoguchi.shop.models import Order

    window = {"customer_id__gte": start, "customer_id__lte": end}
    ids: set[int] = set(Order.objects.filter(**window).values_list("customer_id", flat=True).distinct())
    ids |= set(Case.objects.filter(**window).values_list("customer_id", flat=True).distinct())
    ids |= set(CustomerFigures.objects.filter(**window).values_list("customer_id", flat=True))
    with transaction.atomic():
        return recompute(ids, current)


def refresh_fan_flags(current: Rule) -> int:
    """After the admin changed the minimum orders or spending: one UPDATE of the flag, no
    recount (the counts do not depend on them)."""
    matches = Q(complaint_count=0, order_count__gte=max(current.min_orders, 1), spent_yen__gte=current.min_spent_yen)
    turned_on = CustomerFigures.objects.filter(matches, is_fan=False).update(is_fan=True)
    turned_off = CustomerFigures.objects.filter(~matches, is_fan=True).update(is_fan=False)
    return turned_on + turned_off


def figures_for(customer_id: int) -> CustomerFigures:
    """The stored row, or the figures computed now for a customer that has none yet (a desk
    that had orders before this app was installed, until the rebuild has reached them)."""
    found = CustomerFigures.objects.filter(customer_id=customer_id).first()
    if found is not None:
        return found
    return compute([customer_id])[0]


def handle_figures(items: list[Any]) -> None:
    with transaction.atomic():
        recompute(int(item) for item in items)


def handle_rebuild(items: list[Any]) -> None:
    current = rule()
    for start, end in items:
        rebuild_range(int(start), int(end), current)
