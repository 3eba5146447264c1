"""Shopify webhooks at /shopify/webhook/: the HMAC of the raw body is checked (wrong or missing:
401, nothing stored), the body is stored before anything else, a queued task refetches what it
names and writes it; a redelivery (same X-Shopify-Webhook-Id) is processed once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from django.urls import reverse

from madoguchi.shop.models import Carrier, DeliveryStatus, Order, Passage
from madoguchi.shopify.models import DeliveryState, WebhookDelivery
from madoguchi.shopify.tasks import shopify_sync_job
from madoguchi.shopify.tests.conftest import SECRET
from madoguchi.testing.fake_platforms import shopify_fulfilment, shopify_order, shopify_product

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("huey_immediate")]


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def post(client, topic: str, payload: dict, *, webhook_id: str = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
         signature: str | None = None):
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {"X-Shopify-Topic": topic, "X-Shopify-Webhook-Id": webhook_id,
               "X-Shopify-Shop-Domain": "komorebido.myshopify.com", "X-Shopify-API-Version": "2025-01"}
    if signature != "":
        headers["X-Shopify-Hmac-Sha256"] = sign(body) if signature is None else signature
    return client.post(reverse("shopify:webhook"), body, content_type="application/json", headers=headers)


def _order_payload(number: int = 1001) -> dict:
    """The REST-shaped order a webhook carries (the fields the desk reads: its ids)."""
    return {"id": 5000000 + number, "admin_graphql_api_id": f"gid://shopify/Order/{5000000 + number}", "name": f"#{number}",
            "email": "hanako.yamada@example.jp", "created_at": "2026-11-20T10:15:00+09:00", "total_price": "9400",
            "currency": "JPY", "line_items": [{"sku": "ARITA-MUG-380", "title": "有田焼 マグカップ 380ml", "quantity": 2}]}


def _put_order(shopify, **extra) -> None:
    shopify.put_order(shopify_order(1001, updated_at="2026-11-20T01:15:00Z", email="hanako.yamada@example.jp",
                                    last_name="山田", first_name="花子", phone="090-1234-5678", **extra))


def test_a_signed_order_webhook_is_stored_then_processed(client, shopify, django_capture_on_commit_callbacks) -> None:
    _put_order(shopify)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, "orders/create", _order_payload())
    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert json.loads(bytes(delivery.body))["name"] == "#1001"  # the raw body as it came
    assert (delivery.topic, delivery.state, delivery.attempts) == ("orders/create", DeliveryState.DONE, 1)
    order = Order.objects.get()
    assert (order.number, order.source, order.customer.name, order.amount_yen) == ("1001", "shopify", "山田 花子", 6100)


@pytest.mark.parametrize("signature", ["", "bm90IHRoZSBzaWduYXR1cmU=", sign(b"another body")])
def test_a_wrong_or_missing_signature_is_refused_and_nothing_is_stored(client, shopify, signature,
                                                                        django_capture_on_commit_callbacks) -> None:
    _put_order(shopify)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, "orders/create", _order_payload(), signature=signature)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_signature" and "署名" in response.json()["message"]
    assert WebhookDelivery.objects.count() == 0 and Order.objects.count() == 0 and shopify.requests == []


def test_a_webhook_is_refused_when_no_secret_is_configured(client, shopify, settings) -> None:
    settings.MADOGUCHI_SHOPIFY_WEBHOOK_SECRET = ""
    body = json.dumps(_order_payload()).encode()
    response = client.post(reverse("shopify:webhook"), body, content_type="application/json",
                           headers={"X-Shopify-Hmac-Sha256": base64.b64encode(hmac.new(b"", body, hashlib.sha256).digest()).decode(),
                                    "X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": "x"})
    assert response.status_code == 401 and WebhookDelivery.objects.count() == 0


def test_a_redelivered_webhook_is_processed_once(client, shopify, django_capture_on_commit_callbacks) -> None:
    _put_order(shopify)
    for _attempt in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            assert post(client, "orders/updated", _order_payload()).status_code == 200
    assert WebhookDelivery.objects.count() == 1 and Order.objects.count() == 1
    assert len(shopify.requests) == 1  # the order was fetched once


def test_a_fulfilment_webhook_records_tracking_carrier_and_delivery_status(client, shopify,
                                                                          django_capture_on_commit_callbacks) -> None:
    _put_order(shopify)
    with django_capture_on_commit_callbacks(execute=True):
        post(client, "orders/create", _order_payload(), webhook_id="w-1")
    _put_order(shopify, fulfilments=[shopify_fulfilment(created_at="2026-11-21T02:00:00Z", number="3456-7890-1234",
                                                        company="Sagawa (JA)", display_status="OUT_FOR_DELIVERY",
                                                        updated_at="2026-11-22T00:40:00Z")])
    fulfilment = {"id": 4400001, "order_id": 5001001, "status": "success", "tracking_company": "Sagawa (JA)",
                  "tracking_number": "3456-7890-1234", "shipment_status": "out_for_delivery",
                  "admin_graphql_api_id": "gid://shopify/Fulfillment/4400001"}
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, "fulfillments/update", fulfilment, webhook_id="w-2").status_code == 200
    order = Order.objects.get()
    assert (order.tracking_number, order.carrier, order.delivery_status) == ("345678901234", Carrier.SAGAWA,
                                                                              DeliveryStatus.OUT_FOR_DELIVERY)
    assert order.delivery_status_at.isoformat() == "2026-11-22T00:40:00+00:00"


def test_a_product_webhook_updates_the_product_and_keeps_the_old_wording(client, shopify,
                                                                        django_capture_on_commit_callbacks) -> None:
    shopify.put_product(shopify_product(8101, title="南部鉄器 急須 0.6L", sku="NANBU-KYUSU-06",
                                        description_html="<p>内側はホーロー加工です。</p><p>IH に対応しています。</p>",
                                        updated_at="2026-11-01T00:00:00Z"))
    with django_capture_on_commit_callbacks(execute=True):
        post(client, "products/update", {"id": 8101, "admin_graphql_api_id": "gid://shopify/Product/8101"}, webhook_id="p-1")
    shopify.put_product(shopify_product(8101, title="南部鉄器 急須 0.6L", sku="NANBU-KYUSU-06",
                                        description_html="<p>内側はホーロー加工です。</p><p>IH には対応していません。</p>",
                                        updated_at="2026-11-15T00:00:00Z"))
    with django_capture_on_commit_callbacks(execute=True):
        post(client, "products/update", {"id": 8101, "admin_graphql_api_id": "gid://shopify/Product/8101"}, webhook_id="p-2")
    assert list(Passage.objects.filter(position=2).order_by("valid_from").values_list("text", "valid_to")) == [
        ("IH に対応しています。", Passage.objects.get(position=2, valid_to__isnull=False).valid_to),
        ("IH には対応していません。", None)]


def test_a_webhook_that_met_an_outage_stays_stored_and_the_scheduled_job_does_it(client, shopify, settings,
                                                                                 django_capture_on_commit_callbacks) -> None:
    import datetime as dt

    from django.utils import timezone

    _put_order(shopify)
    shopify.fail_with(*[503] * 4)  # down through every request of the task's try
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, "orders/create", _order_payload()).status_code == 200  # answered at once all the same
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.PENDING and "応答がありません" in delivery.error
    assert Order.objects.count() == 0
    WebhookDelivery.objects.update(received_at=timezone.now() - dt.timedelta(minutes=5))
    shopify_sync_job.call_local()
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DONE and Order.objects.count() == 1
