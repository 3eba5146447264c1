"""Orders with more line items and fulfilments than one GraphQL answer holds (a shop's
wholesale order, a gift sent to 250 addresses): the sync pages the order's lineItems
connection by its cursors and asks again for the whole fulfilments list, so nothing is cut off,
by the scheduled sync and by a webhook's refetch alike."""

from __future__ import annotations

import json

import pytest

from madoguchi.shop.models import Order, OrderItem
from madoguchi.shopify import client as shopify_client
from madoguchi.shopify import services
from madoguchi.testing.fake_platforms import shopify_fulfilment, shopify_order

pytestmark = pytest.mark.django_db


def _wholesale(number: int, items: int = 250, fulfilments: int = 12) -> dict:
    lines = [(f"TENUGUI-{index:03d}", f"注染手ぬぐい 柄{index:03d}（{['藍', '朱', '若草'][index % 3]}）", 1 + index % 3, 1100 + index)
             for index in range(1, items + 1)]
    shipped = [shopify_fulfilment(created_at=f"2026-11-{10 + index // 4:02d}T0{index % 4}:00:00Z",
                                  number=f"4400-1234-{index:04d}", display_status="DELIVERED" if index < fulfilments else "IN_TRANSIT")
               for index in range(1, fulfilments + 1)]
    return shopify_order(number, updated_at="2026-11-28T05:00:00Z", email="orders@hinoki-ryokan.example.jp", last_name="檜",
                         first_name="旅館", items=lines, fulfilments=shipped)


def _queries(fake) -> int:
    return len([request for request in fake.requests if request[0] == "POST"])


def test_the_sync_writes_all_250_line_items_and_the_latest_of_12_fulfilments(shopify) -> None:
    shopify.put_order(_wholesale(3001))
    result = services.run_sync()
    assert result is not None and result.orders.created == 1 and not result.orders.problems
    order = Order.objects.get(number="3001")
    items = list(OrderItem.objects.filter(order=order).order_by("pk").values_list("sku", "quantity", "unit_price_yen"))
    assert len(items) == 250
    assert items[0] == ("TENUGUI-001", 2, 1101) and items[-1] == ("TENUGUI-250", 2, 1350)
    assert len({sku for sku, _q, _p in items}) == 250
    assert order.tracking_number == "440012340012"  # the 12th parcel, past the first answer's 5
    assert order.delivery_status == "in_transit"
    # The products page, the orders page (each order's first 10 items and 5 fulfilments), the other
    # 240 line items in one page of up to 250, the whole fulfilments list.
    assert _queries(shopify) == 1 + 1 + 1 + 1


def test_line_items_are_followed_page_after_page_by_cursor(shopify, monkeypatch) -> None:
    monkeypatch.setattr(shopify_client, "LINE_ITEMS_QUERY", shopify_client.LINE_ITEMS_QUERY.replace(
        f"first: {shopify_client.LINE_ITEMS_PAGE}", "first: 60"))
    shopify.put_order(_wholesale(3002, items=250, fulfilments=1))
    services.run_sync()
    assert OrderItem.objects.filter(order__number="3002").count() == 250
    assert _queries(shopify) == 1 + 1 + 4  # products, orders (its first 10 items), the other 240 in 4 pages of 60


def test_a_webhook_refetch_of_a_large_order_gets_every_line_item(shopify, client) -> None:
    from madoguchi.shopify.models import WebhookDelivery
    from madoguchi.shopify.tests.conftest import SECRET
    from madoguchi.shopify.tests.test_webhooks import sign

    shopify.put_order(_wholesale(3003))
    body = json.dumps({"id": 5003003, "admin_graphql_api_id": "gid://shopify/Order/5003003", "name": "#3003"}).encode()
    response = client.post("/shopify/webhook/", body, content_type="application/json", headers={
        "X-Shopify-Topic": "orders/updated", "X-Shopify-Hmac-Sha256": sign(body, SECRET), "X-Shopify-Webhook-Id": "wh-3003"})
    assert response.status_code == 200
    assert services.process_delivery(WebhookDelivery.objects.get(webhook_id="wh-3003").pk) == "done"
    assert OrderItem.objects.filter(order__number="3003").count() == 250
