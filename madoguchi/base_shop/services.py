"""BASE's orders and items kept in sync on a schedule.

BASE lists orders by the date they were placed (start_ordered), not by their last change, and
a list row carries `modified`: each sync lists the orders placed since the cursor's time less
MADOGUCHI_BASE_LOOKBACK_DAYS, fetches the detail of those modified at or after the cursor, and
writes them 100 at a time. The cursor (the newest `modified` seen) moves in the transaction of
the last write, so a sync cut short starts the same list again and loses nothing; orders
written twice are found by their key and changed in nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from madoguchi.base_shop.client import BaseClient
from madoguchi.shop import sync
from madoguchi.shop.importer import write_orders
from madoguchi.shop.models import OrderSource, OrderStatus
from madoguchi.shop.order_files import (
    Item,
    ParsedOrder,
    Problem,
    RowError,
    carrier_of,
    parse_yen,
    tracking_number,
)
from madoguchi.shop.passages import passages_of_text

SOURCE = str(OrderSource.BASE)
DETAILS_PER_WRITE = 100
# BASE's dispatch_status, as the desk keeps it.
STATUSES = {"unpaid": OrderStatus.PENDING, "ordered": OrderStatus.PAID, "shipping": OrderStatus.FULFILLED,
            "dispatched": OrderStatus.FULFILLED, "cancelled": OrderStatus.CANCELLED, "unshippable": OrderStatus.PAID}


def _when(value: Any) -> dt.datetime | None:
    """BASE's times are Unix seconds (or null)."""
    if value in (None, "", 0, "0"):
        return None
    try:
        return dt.datetime.fromtimestamp(int(value), dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError) as error:
        raise RowError(f"BASE: not a time: {str(value)[:40]}") from error


def _sku(item: dict[str, Any]) -> str:
    """As the 注文 CSV import names it: the variation's or item's code, else BASE-<item>-<variation>."""
    code = str(item.get("variation_identifier") or item.get("item_identifier") or "")
    if not code and item.get("item_id"):
        code = "-".join(str(part) for part in ("BASE", item.get("item_id"), item.get("variation_id")) if part)
    return code[:50]


def parsed_order(order: dict[str, Any], line: int = 0) -> ParsedOrder:
    key = str(order.get("unique_key") or "")
    if not key:
        raise RowError("BASE: an order without unique_key")
    status = STATUSES.get(str(order.get("dispatch_status") or ""), OrderStatus.PAID)
    cancelled_at = _when(order.get("cancelled"))
    fields: dict[str, Any] = {
        "ordered_at": _when(order.get("ordered")),
        "status": str(OrderStatus.CANCELLED if cancelled_at else status),
        "cancelled_at": cancelled_at,
        "amount_yen": parse_yen(str(order.get("total") or 0), "total"),
    }
    if fields["ordered_at"] is None:
        raise RowError(f"BASE: order {key} has no ordered time")
    shipped_at = _when(order.get("dispatched"))
    if shipped_at is not None:
        fields["shipped_at"] = shipped_at
    items = [dict(item) for item in order.get("order_items") or [] if isinstance(item, dict)]
    tracking = next((item for item in items if item.get("tracking_number")), None)
    if tracking is not None:
        fields["tracking_number"] = tracking_number(str(tracking["tracking_number"]))
        named = str(tracking.get("delivery_company_name") or tracking.get("shipping_method") or "")
        fields["carrier"] = carrier_of(named) or ""
    return ParsedOrder(
        line=line, external_id=key, number=key,
        customer_name=f"{order.get('last_name') or ''} {order.get('first_name') or ''}".strip(),
        email=str(order.get("mail_address") or ""), phone=str(order.get("tel") or ""), fields=fields,
        items=[Item(sku=_sku(item), name=str(item.get("title") or "") + (f"（{item['variation']}）" if item.get("variation") else ""),
                    quantity=int(item.get("amount") or 1), unit_price_yen=parse_yen(str(item.get("price") or 0), "price"))
               for item in items if item.get("status") != "cancelled" or order.get("cancelled")],
    )


def sync_orders(client: BaseClient, result: sync.SyncResult) -> None:
    cursor = sync.state(SOURCE).orders_cursor
    since = int(cursor) if cursor.isdigit() else 0
    start = ""
    if since:
        start_at = dt.datetime.fromtimestamp(since, dt.UTC) - dt.timedelta(days=settings.MADOGUCHI_BASE_LOOKBACK_DAYS)
        start = timezone.localtime(start_at).strftime("%Y-%m-%d %H:%M:%S")
    keys: list[str] = []
    newest = since
    for rows in client.orders(start):
        for row in rows:
            modified = int(row.get("modified") or row.get("ordered") or 0)
            newest = max(newest, modified)
            if row.get("unique_key") and (not since or modified >= since):
                keys.append(str(row["unique_key"]))
    keys = list(dict.fromkeys(keys))
    for start_index in range(0, max(len(keys), 1), DETAILS_PER_WRITE):
        chunk = keys[start_index:start_index + DETAILS_PER_WRITE]
        parsed: list[ParsedOrder] = []
        for index, key in enumerate(chunk, start_index + 1):
            detail = client.order(key)
            if detail is None:
                continue
            try:
                parsed.append(parsed_order(detail, line=index))
            except (RowError, ValueError, TypeError) as error:
                result.orders.problems.append(Problem(index, f"{key}: {error}"))
        last = start_index + DETAILS_PER_WRITE >= len(keys)
        with transaction.atomic():
            write_orders(parsed, SOURCE, result.orders)
            if last and newest > since:
                sync.advance(SOURCE, orders_cursor=str(newest))


def sync_products(client: BaseClient, result: sync.SyncResult) -> None:
    for rows in client.items():
        with transaction.atomic():
            for item in rows:
                if not item.get("item_id"):
                    continue
                result.products += sync.do_sync_product(
                    SOURCE, str(item["item_id"]), sku=str(item.get("identifier") or "")[:50], name=str(item.get("title") or ""),
                    url="", passages=passages_of_text(str(item.get("detail") or "")), at=_when(item.get("modified")))


def run_sync() -> sync.SyncResult | None:
    def body(result: sync.SyncResult) -> None:
        with BaseClient() as client:
            sync_products(client, result)
            sync_orders(client, result)

    return sync.run_sync(SOURCE, body)
