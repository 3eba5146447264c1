"""A Shopify webhook reaches the desk users run: `madoguchi serve` (with its embedded worker)
configured by environment variables to talk to a local Shopify. A signed fulfilment webhook is
answered at once, stored, and the worker writes the order with its tracking number; a forged
one is refused with 401 and stored nowhere; the same webhook delivered again is done once."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

from madoguchi.chat.tests.servers import own_database
from madoguchi.shopify.tests.test_webhooks import sign
from madoguchi.testing.desk_process import ServedDesk, free_port
from madoguchi.testing.fake_platforms import FakeShopify, shopify_fulfilment, shopify_order

SECRET = "whsec-serve-2026"
STATE = """
import json
from madoguchi.shop.models import Order
from madoguchi.shopify.models import WebhookDelivery
order = Order.objects.filter(number="2048").first()
print(json.dumps({"deliveries": sorted(WebhookDelivery.objects.values_list("webhook_id", "state")),
                  "order": order and [order.source, order.tracking_number, order.carrier, order.delivery_status, order.customer.name]}))
"""


def _post(url: str, body: bytes, signature: str, webhook_id: str) -> int:
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "X-Shopify-Topic": "fulfillments/create", "X-Shopify-Hmac-Sha256": signature,
        "X-Shopify-Webhook-Id": webhook_id, "X-Shopify-Shop-Domain": "komorebido.myshopify.com"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_a_signed_webhook_posted_to_serve_puts_the_order_in_the_database(tmp_path: Path) -> None:
    shopify = FakeShopify().start()
    try:
        with own_database("shopify_serve") as database:
            desk = ServedDesk.create(tmp_path / "data", database, free_port(), MADOGUCHI_SHOPIFY_SHOP_URL=shopify.url,
                                     MADOGUCHI_SHOPIFY_ACCESS_TOKEN=shopify.token,
                                     MADOGUCHI_SHOPIFY_WEBHOOK_SECRET=SECRET, MADOGUCHI_SHOP_SYNC_MINUTES="59")
            try:
                desk.start()
                # The order exists at Shopify from now on (the sync at start found none).
                shopify.put_order(shopify_order(
                    2048, updated_at="2026-12-01T01:00:00Z", email="yuki.nakamura@example.jp", last_name="中村",
                    first_name="由紀", fulfilments=[shopify_fulfilment(created_at="2026-12-01T00:30:00Z",
                                                                     number="5555-6666-7777", company="Japan Post (JA)")]))
                body = json.dumps({"id": 7700001, "order_id": 5002048, "tracking_number": "5555-6666-7777",
                                   "tracking_company": "Japan Post (JA)", "shipment_status": None}).encode()
                url = desk.url + "/shopify/webhook/"
                assert _post(url, body, sign(body, "wrong-secret"), "forged-1") == 401
                started = time.monotonic()
                assert _post(url, body, sign(body, SECRET), "b1a2c3d4-0001") == 200
                assert time.monotonic() - started < 5  # answered at once; the worker does the rest
                state: dict = {}
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    state = json.loads(desk.shell(STATE))
                    if state["order"] and state["deliveries"] == [["b1a2c3d4-0001", "done"]]:
                        break
                    time.sleep(1)
                assert state["order"] == ["shopify", "555566667777", "japanpost", "in_transit", "中村 由紀"], state
                assert state["deliveries"] == [["b1a2c3d4-0001", "done"]]
                order_fetches = len(shopify.requests)
                assert _post(url, body, sign(body, SECRET), "b1a2c3d4-0001") == 200  # Shopify redelivers it
                time.sleep(3)
                assert json.loads(desk.shell(STATE))["deliveries"] == [["b1a2c3d4-0001", "done"]]
                assert len(shopify.requests) == order_fetches  # not fetched again
            finally:
                desk.stop()
    finally:
        shopify.stop()
