"""Shopify's orders and products kept in sync: on a schedule (the updated_at cursor) and on
webhooks (each one refetches what it names, so the newest state wins whatever order Shopify
delivers them in)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

from django.db import transaction
from django.utils import timezone

from madoguchi.shop import sync
from madoguchi.shop.importer import ImportSummary, write_orders
from madoguchi.shop.models import OrderSource
from madoguchi.shop.order_files import ParsedOrder, Problem, RowError
from madoguchi.shop.platform_http import PlatformError
from madoguchi.shopify import convert
from madoguchi.shopify.client import ShopifyClient
from madoguchi.shopify.models import DeliveryState, WebhookDelivery

log = logging.getLogger(__name__)
SOURCE = str(OrderSource.SHOPIFY)
ORDER_TOPICS = {"orders/create", "orders/updated", "orders/paid", "orders/cancelled", "orders/fulfilled",
                "orders/partially_fulfilled", "refunds/create"}
FULFILMENT_TOPICS = {"fulfillments/create", "fulfillments/update", "fulfillment_events/create"}
PRODUCT_TOPICS = {"products/create", "products/update"}
MAX_ATTEMPTS = 10


def signature_ok(body: bytes, given: str, secret: str) -> bool:
    """X-Shopify-Hmac-Sha256: base64 of HMAC-SHA256 of the raw body with the app's secret,
    compared in constant time."""
    if not secret or not given:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected.encode(), given.strip().encode())


def _parse(nodes: list[dict[str, Any]], summary: ImportSummary) -> list[ParsedOrder]:
    parsed = []
    for index, node in enumerate(nodes, 1):
        try:
            parsed.append(convert.parsed_order(node, line=index))
        except (RowError, ValueError, TypeError) as error:
            summary.problems.append(Problem(index, f"{node.get('name') or node.get('id')}: {error}"))
    return parsed


def _sync_pages(cursor: str, pages: Callable[[str], Iterator[list[dict[str, Any]]]],
                write: Callable[[list[dict[str, Any]]], None]) -> None:
    """Every node changed since the cursor (`orders_cursor` or `products_cursor`), a page at a
    time: each page is written and the cursor moved to its newest change in one transaction."""
    since = str(getattr(sync.state(SOURCE), cursor))
    for nodes in pages(since):
        if not nodes:
            continue
        with transaction.atomic():
            write(nodes)
            newest = max(str(node.get("updatedAt") or "") for node in nodes)
            if newest > since:
                sync.advance(SOURCE, **{cursor: newest})
                since = newest


def _write_product(node: dict[str, Any]) -> bool:
    values = convert.product_values(node)
    return sync.do_sync_product(SOURCE, values.pop("external_id"), at=convert.when(node.get("updatedAt")), **values)


def sync_orders(client: ShopifyClient, result: sync.SyncResult) -> None:
    def write(nodes: list[dict[str, Any]]) -> None:
        write_orders(_parse(nodes, result.orders), SOURCE, result.orders)

    _sync_pages("orders_cursor", client.orders, write)


def sync_products(client: ShopifyClient, result: sync.SyncResult) -> None:
    def write(nodes: list[dict[str, Any]]) -> None:
        result.products += sum(_write_product(node) for node in nodes)

    _sync_pages("products_cursor", client.products, write)


def run_sync() -> sync.SyncResult | None:
    def body(result: sync.SyncResult) -> None:
        with ShopifyClient() as client:
            sync_products(client, result)
            sync_orders(client, result)

    return sync.run_sync(SOURCE, body)


# --- webhooks ------------------------------------------------------------------------------


def do_store_delivery(*, webhook_id: str, topic: str, shop_domain: str, body: bytes) -> WebhookDelivery | None:
    """Keep what Shopify sent, before anything else; None for a redelivery already kept."""
    webhook_id = webhook_id.strip()[:100] or "sha256:" + hashlib.sha256(body).hexdigest()[:90]
    with transaction.atomic():
        delivery, created = WebhookDelivery.objects.get_or_create(
            webhook_id=webhook_id, defaults={"topic": topic[:60], "shop_domain": shop_domain[:255], "body": body})
    return delivery if created else None


def _gid(kind: str, payload: dict[str, Any], key: str = "id") -> str:
    """The GraphQL id of what a webhook names: its own (key "id") or another's (a fulfilment's order_id)."""
    if key == "id":
        given = payload.get("admin_graphql_api_id")
        if isinstance(given, str) and given.startswith(f"gid://shopify/{kind}/"):
            return given
    value = payload.get(key)
    if value in (None, ""):
        raise ValueError(f"webhook without {key}")
    return f"gid://shopify/{kind}/{int(value)}"


def process_delivery(pk: int) -> str:
    """Do what a stored webhook asks (at most once it succeeded): refetch the order or product
    it names and write it. A platform error leaves it pending for the next try."""
    delivery = WebhookDelivery.objects.filter(pk=pk, state=DeliveryState.PENDING).first()
    if delivery is None:
        return "done already"
    WebhookDelivery.objects.filter(pk=pk).update(attempts=delivery.attempts + 1)
    try:
        payload = json.loads(bytes(delivery.body))
        if not isinstance(payload, dict):
            raise ValueError("not a JSON object")
        outcome = _apply(delivery.topic, payload)
    except PlatformError as error:
        state = DeliveryState.FAILED if delivery.attempts + 1 >= MAX_ATTEMPTS else DeliveryState.PENDING
        WebhookDelivery.objects.filter(pk=pk).update(error=str(error)[:2000], state=state)
        raise
    except (ValueError, TypeError, RowError) as error:
        WebhookDelivery.objects.filter(pk=pk).update(state=DeliveryState.FAILED, error=f"{type(error).__name__}: {error}"[:2000],
                                                     processed_at=timezone.now())
        return "failed"
    WebhookDelivery.objects.filter(pk=pk).update(state=outcome, error="", processed_at=timezone.now())
    return str(outcome)


def _apply(topic: str, payload: dict[str, Any]) -> DeliveryState:
    if topic in ORDER_TOPICS or topic in FULFILMENT_TOPICS:
        gid = _gid("Order", payload, "id" if topic in ORDER_TOPICS else "order_id")
        with ShopifyClient() as client:
            node = client.order(gid)
        if node is None:
            return DeliveryState.IGNORED  # deleted since
        summary = ImportSummary(file_format=SOURCE)
        with transaction.atomic():
            write_orders([convert.parsed_order(node)], SOURCE, summary)
        if summary.problems:
            raise ValueError(summary.problems[0].reason)
        return DeliveryState.DONE
    if topic in PRODUCT_TOPICS:
        with ShopifyClient() as client:
            node = client.product(_gid("Product", payload))
        if node is None:
            return DeliveryState.IGNORED
        _write_product(node)
        return DeliveryState.DONE
    return DeliveryState.IGNORED


def pending_deliveries(older_than: dt.timedelta) -> list[int]:
    """Webhooks still unprocessed this long after they came (a worker that died, a platform
    that was down): the scheduled job does them."""
    return list(WebhookDelivery.objects.filter(state=DeliveryState.PENDING, received_at__lt=timezone.now() - older_than)
                .order_by("received_at").values_list("pk", flat=True)[:500])
