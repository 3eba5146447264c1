"""Shopify's GraphQL order and product nodes as the shop app keeps them.

An order's key is its name (#1001), as in Shopify's order export: an order imported from a
CSV file earlier is the same order when the sync sees it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.dateparse import parse_datetime

from madoguchi.shop.models import Carrier, DeliveryStatus
from madoguchi.shop.order_files import (
    Item,
    ParsedOrder,
    RowError,
    carrier_of,
    order_status,
    parse_yen,
    tracking_number,
)
from madoguchi.shop.passages import passages_of_html

# Shopify's FulfillmentDisplayStatus, as the desk shows it; the rest (label printed, submitted,
# marked as fulfilled …) says nothing about where the parcel is.
DELIVERY_STATUSES = {
    "CONFIRMED": DeliveryStatus.CONFIRMED,
    "CARRIER_PICKED_UP": DeliveryStatus.IN_TRANSIT,
    "IN_TRANSIT": DeliveryStatus.IN_TRANSIT,
    "OUT_FOR_DELIVERY": DeliveryStatus.OUT_FOR_DELIVERY,
    "ATTEMPTED_DELIVERY": DeliveryStatus.ATTEMPTED,
    "READY_FOR_PICKUP": DeliveryStatus.READY_FOR_PICKUP,
    "DELAYED": DeliveryStatus.DELAYED,
    "DELIVERED": DeliveryStatus.DELIVERED,
    "PICKED_UP": DeliveryStatus.DELIVERED,
    "FAILURE": DeliveryStatus.FAILURE,
    "NOT_DELIVERED": DeliveryStatus.FAILURE,
}


def when(value: Any) -> dt.datetime | None:
    if not value or not isinstance(value, str):
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise RowError(f"Shopify: not a date and time: {value[:40]}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _money(node: dict[str, Any] | None, what: str) -> int:
    amount = ((node or {}).get("shopMoney") or {}).get("amount")
    return parse_yen(str(amount), what) if amount not in (None, "") else 0


def _fulfilment_fields(fulfilments: list[dict[str, Any]], fields: dict[str, Any]) -> None:
    """Shipping, tracking and where the parcel is, from the order's fulfilments (none: left alone)."""
    live = sorted((f for f in fulfilments if f.get("status") not in ("CANCELLED", "ERROR", "FAILURE")
                   and f.get("displayStatus") != "CANCELED"), key=lambda f: f.get("createdAt") or "")
    if not live:
        return
    fields["shipped_at"] = when(live[0].get("createdAt"))
    latest = live[-1]
    tracking = next((info for f in reversed(live) for info in f.get("trackingInfo") or [] if info.get("number")), None)
    if tracking is not None:
        fields["tracking_number"] = tracking_number(str(tracking["number"]))
        company = str(tracking.get("company") or "")
        fields["carrier"] = (carrier_of(company) or str(Carrier.OTHER)) if company else ""
    status = DELIVERY_STATUSES.get(str(latest.get("displayStatus") or ""))
    if status is not None:
        fields["delivery_status"] = str(status)
        moment = {DeliveryStatus.DELIVERED: latest.get("deliveredAt"),
                  DeliveryStatus.IN_TRANSIT: latest.get("inTransitAt")}.get(status)
        fields["delivery_status_at"] = when(moment or latest.get("updatedAt"))
        if status == DeliveryStatus.DELIVERED:
            fields["delivered_at"] = fields["delivery_status_at"]


def parsed_order(node: dict[str, Any], line: int = 0) -> ParsedOrder:
    """A GraphQL Order node as the importer writes it (RowError when it cannot be read)."""
    name = str(node.get("name") or "")
    if not name:
        raise RowError("Shopify: an order without a name")
    financial = str(node.get("displayFinancialStatus") or "").upper()
    cancelled_at = when(node.get("cancelledAt"))
    fields: dict[str, Any] = {
        "ordered_at": when(node.get("createdAt")),
        "status": order_status(cancelled_at is not None or financial == "VOIDED", financial == "REFUNDED",
                               str(node.get("displayFulfillmentStatus") or "").upper() == "FULFILLED",
                               financial in ("PENDING", "AUTHORIZED", "PARTIALLY_PAID", "EXPIRED", "")),
        "cancelled_at": cancelled_at,
        "amount_yen": _money(node.get("totalPriceSet"), "totalPriceSet"),
        "refunded_yen": _money(node.get("totalRefundedSet"), "totalRefundedSet"),
    }
    if fields["ordered_at"] is None:
        raise RowError(f"Shopify: order {name} has no createdAt")
    _fulfilment_fields(list(node.get("fulfillments") or []), fields)
    customer = node.get("customer") or {}
    billing = node.get("billingAddress") or {}
    shipping = node.get("shippingAddress") or {}
    person = f"{customer.get('lastName') or ''} {customer.get('firstName') or ''}".strip()
    items = [
        Item(sku=str(item.get("sku") or "")[:50], name=str(item.get("name") or ""), quantity=int(item.get("quantity") or 1),
             unit_price_yen=_money(item.get("originalUnitPriceSet"), "originalUnitPriceSet"))
        for item in (edge.get("node") or {} for edge in (node.get("lineItems") or {}).get("edges") or [])
    ]
    return ParsedOrder(
        line=line, external_id=name, number=name.lstrip("#"),
        customer_name=person or str(billing.get("name") or shipping.get("name") or ""),
        email=str(node.get("email") or customer.get("email") or ""),
        phone=str(node.get("phone") or customer.get("phone") or billing.get("phone") or shipping.get("phone") or ""),
        fields=fields, items=items,
    )


def product_values(node: dict[str, Any]) -> dict[str, Any]:
    """What shop.sync.do_sync_product needs from a GraphQL Product node."""
    variants = [edge.get("node") or {} for edge in (node.get("variants") or {}).get("edges") or []]
    sku = next((str(v.get("sku")) for v in variants if v.get("sku")), "")
    return {"external_id": str(node.get("legacyResourceId") or node.get("id") or ""), "sku": sku,
            "name": str(node.get("title") or ""), "url": str(node.get("onlineStoreUrl") or ""),
            "passages": passages_of_html(str(node.get("descriptionHtml") or ""))}
