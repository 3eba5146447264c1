"""The delivery watch (issue 18 item 3): parcels out longer than their carrier usually takes
to their prefecture group, still not delivered, so the shop can write before the customer
does; and the case an agent opens to write to that customer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.cases.models import ACTIVE_STATUSES, Case, Category, Channel
from madoguchi.cases.services import do_create_case
from madoguchi.customers.models import IdentityKind
from madoguchi.shop.models import DeliveryDays, Order, OrderStatus
from madoguchi.shop.prefectures import REGION_OF, prefectures_in
from madoguchi.shop.tracking import sites_for, tracking_of

WATCH_LIMIT = 200


def usual_days() -> dict[str, dict[str, int]]:
    """carrier → prefecture group ("" for every other group) → usual days."""
    table: dict[str, dict[str, int]] = {}
    for row in DeliveryDays.objects.all():
        table.setdefault(row.carrier, {})[row.region] = row.days
    return table


def _late(table: dict[str, dict[str, int]], now: dt.datetime) -> Q:
    late = Q()
    for carrier, regions in table.items():
        named: list[str] = []
        for region, days in regions.items():
            if region:
                prefectures = prefectures_in(region)
                named += prefectures
                late |= Q(carrier=carrier, shipping_prefecture__in=prefectures, shipped_at__lt=now - dt.timedelta(days=days))
        if "" in regions:
            late |= Q(carrier=carrier, shipped_at__lt=now - dt.timedelta(days=regions[""])) & ~Q(shipping_prefecture__in=named)
    return late


@dataclass
class LateParcel:
    order: Order
    days_out: int
    usual_days: int
    tracking: Any
    open_case: int | None  # the active case already about this order, if any


def late_parcels(now: dt.datetime | None = None, limit: int = WATCH_LIMIT) -> list[LateParcel]:
    """Orders shipped more than the carrier's usual days to their prefecture group ago and not
    delivered (nor cancelled or refunded), longest out first. Walks the partial index of parcels
    on their way; three queries whatever the number of orders."""
    now = now or timezone.now()
    table = usual_days()
    late = _late(table, now)
    if not late:
        return []
    orders = list(
        Order.objects.filter(late, shipped_at__isnull=False, delivered_at__isnull=True)
        .exclude(status__in=[OrderStatus.CANCELLED, OrderStatus.REFUNDED])
        .select_related("customer").order_by("shipped_at", "pk")[:limit]
    )
    open_cases = dict(Case.objects.filter(order__in=orders, status__in=ACTIVE_STATUSES)
                      .order_by("received_at").values_list("order_id", "pk"))
    sites = sites_for({order.carrier for order in orders})
    found = []
    for order in orders:
        regions = table.get(order.carrier, {})
        usual = regions.get(REGION_OF.get(order.shipping_prefecture, ""), regions.get("", 0))
        shipped_at = order.shipped_at or now
        found.append(LateParcel(order, (now - shipped_at).days, usual, tracking_of(order, sites), open_cases.get(order.pk)))
    return found


def _category() -> Category:
    category = Category.objects.filter(code="delivery", active=True).first() or Category.objects.filter(active=True).first()
    if category is None:
        raise ValueError(_("分類がありません。設定で分類を追加してください。"))
    return category


@transaction.atomic
def do_open_delivery_case(order: Order, *, actor: Any) -> Case:
    """The case an agent writes to the customer from (the order linked); the active case about
    this order if there is one already, so two agents never write twice."""
    existing = Case.objects.filter(order=order, status__in=ACTIVE_STATUSES).order_by("received_at").first()
    if existing is not None:
        return existing
    customer = order.customer
    has_email = customer.identities.filter(kind=IdentityKind.EMAIL).exists()
    return do_create_case(
        actor=actor, customer=customer, channel=Channel.EMAIL if has_email else Channel.PHONE,
        subject=_("配送状況のご連絡（ご注文 %(number)s）") % {"number": order.number},
        category=_category(), complaint="", assignee=actor, order=order, first_message_from_customer=False,
    )
