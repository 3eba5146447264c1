"""BASE (thebase.in API v1) against a local BASE: the OAuth 2 authorisation-code flow with the
tokens kept encrypted and refreshed when expired, then orders (/1/orders, /1/orders/detail) and
items (/1/items) synced through the importer's one upsert; outages retried, nothing doubled."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from madoguchi.accounts.models import Role
from madoguchi.base_shop import services
from madoguchi.base_shop.models import BaseAuthorisation
from madoguchi.customers.models import Customer
from madoguchi.shop.models import (
    Carrier,
    Order,
    OrderItem,
    OrderStatus,
    Passage,
    Product,
    SyncState,
)
from madoguchi.testing.factories import UserFactory
from madoguchi.testing.fake_platforms import FakeBase, base_item, base_order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("huey_immediate")]

NOV_20 = int(dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC).timestamp())


@pytest.fixture
def base(settings: Any) -> Iterator[FakeBase]:
    fake = FakeBase().start()
    settings.MADOGUCHI_BASE_API_BASE = fake.url
    settings.MADOGUCHI_BASE_CLIENT_ID = "base-client"
    settings.MADOGUCHI_BASE_CLIENT_SECRET = "base-secret"
    settings.MADOGUCHI_SHOP_SYNC_ATTEMPTS = 4
    settings.MADOGUCHI_SHOP_SYNC_BACKOFF_SECONDS = 0.01
    yield fake
    fake.stop()


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="tencho", role=Role.ADMIN))
    return client


def connect(admin_client, base: FakeBase) -> None:
    response = admin_client.post(reverse("base_shop:connect"))
    location = urlsplit(response["Location"])
    query = parse_qs(location.query)
    assert response.status_code == 302 and f"{location.scheme}://{location.netloc}{location.path}" == f"{base.url}/1/oauth/authorize"
    assert query["client_id"] == ["base-client"] and query["response_type"] == ["code"]
    assert query["redirect_uri"] == ["http://127.0.0.1:8000/settings/orders/base/callback/"]
    # BASE sends the browser back with a code and the state.
    done = admin_client.get(reverse("base_shop:callback"), {"code": FakeBase.CODE, "state": query["state"][0]}, follow=True)
    assert "BASE に接続しました" in done.content.decode()


def _shop(base: FakeBase) -> None:
    base.put_order(base_order("8F3AB4C9D1E2F001", ordered=NOV_20, modified=NOV_20, last_name="高橋", first_name="直子",
                              email="naoko.takahashi@example.jp", tel="03-1234-5678",
                              items=[(1201, "今治タオル バスタオル 2枚組", "生成り", 3300, 2)]))
    base.put_order(base_order("8F3AB4C9D1E2F002", ordered=NOV_20 + 3600, modified=NOV_20 + 3600, last_name="伊藤",
                              first_name="翔太", email="shota.ito@example.ne.jp", tel="090-8765-4321",
                              items=[(1305, "南部鉄器 急須 0.6L", "", 8800, 1)], dispatch_status="unpaid"))
    base.items = [base_item(1201, title="今治タオル バスタオル 2枚組", identifier="IMABARI-1201", modified=NOV_20 - 86400,
                            detail="今治産の綿100％です。\n\n吸水性が高く、洗うほどやわらかくなります。\n色: 生成り・藍")]


def test_the_shop_authorises_and_the_tokens_are_kept_encrypted(admin_client, base, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    connect(admin_client, base)
    row = BaseAuthorisation.objects.get()
    assert "base-access-1" not in row.access_token_encrypted and "base-refresh-1" not in row.refresh_token_encrypted
    assert row.token()["refresh_token"] == "base-refresh-1" and row.authorised_by.username == "tencho"
    assert "base-access" not in caplog.text and "base-refresh" not in caplog.text  # never logged


def test_a_callback_with_a_wrong_state_is_refused(admin_client, base) -> None:
    admin_client.post(reverse("base_shop:connect"))
    response = admin_client.get(reverse("base_shop:callback"), {"code": FakeBase.CODE, "state": "forged"}, follow=True)
    assert "state が一致しません" in response.content.decode() and not BaseAuthorisation.objects.exists()


def test_first_sync_creates_orders_customers_items_products_and_passages_a_second_changes_nothing(admin_client, base) -> None:
    _shop(base)
    connect(admin_client, base)  # the callback queues the first sync
    towel = Order.objects.get(number="8F3AB4C9D1E2F001")
    assert (towel.source, towel.status, towel.amount_yen, towel.customer.name) == ("base", OrderStatus.PAID, 7400, "高橋 直子")
    assert list(towel.items.values_list("sku", "name", "quantity", "unit_price_yen")) == [
        ("IMABARI-1201", "今治タオル バスタオル 2枚組（生成り）", 2, 3300)]
    assert Order.objects.get(number="8F3AB4C9D1E2F002").status == OrderStatus.PENDING
    product = Product.objects.get(source="base", external_id="1201")
    assert towel.items.get().product == product
    assert list(product.passages.values_list("text", flat=True)) == [
        "今治産の綿100％です。", "吸水性が高く、洗うほどやわらかくなります。", "色: 生成り・藍"]
    assert SyncState.objects.get(platform="base").orders_cursor == str(NOV_20 + 3600)
    counts = (Order.objects.count(), Customer.objects.count(), OrderItem.objects.count(), Passage.objects.count())
    details = len([r for r in base.requests if "/detail/" in r[1]])

    again = services.run_sync()
    assert again is not None and (again.orders.created, again.orders.updated, again.products) == (0, 0, 0)
    assert (Order.objects.count(), Customer.objects.count(), OrderItem.objects.count(), Passage.objects.count()) == counts
    # Only the order modified at the cursor's second was fetched again.
    assert len([r for r in base.requests if "/detail/" in r[1]]) == details + 1


def test_a_shipped_order_is_updated(admin_client, base) -> None:
    _shop(base)
    connect(admin_client, base)
    shipped = base_order("8F3AB4C9D1E2F001", ordered=NOV_20, modified=NOV_20 + 86400, last_name="高橋", first_name="直子",
                         email="naoko.takahashi@example.jp", tel="03-1234-5678",
                         items=[(1201, "今治タオル バスタオル 2枚組", "生成り", 3300, 2)], dispatch_status="dispatched",
                         dispatched=NOV_20 + 86400, tracking="4012-3456-7890")
    base.put_order(shipped)
    result = services.run_sync()
    assert result is not None and (result.orders.created, result.orders.updated) == (0, 1)
    order = Order.objects.get(number="8F3AB4C9D1E2F001")
    assert (order.status, order.tracking_number, order.carrier) == (OrderStatus.FULFILLED, "401234567890", Carrier.YAMATO)
    assert order.shipped_at == dt.datetime.fromtimestamp(NOV_20 + 86400, dt.UTC) and Order.objects.count() == 2


def test_an_expired_token_is_refreshed_and_the_new_one_kept(admin_client, base) -> None:
    connect(admin_client, base)
    BaseAuthorisation.objects.update(expires_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    _shop(base)
    result = services.run_sync()
    assert result is not None and result.orders.created == 2
    assert base.token_requests[-1]["grant_type"] == ["refresh_token"]
    assert BaseAuthorisation.objects.get().token()["access_token"] == base.access_token == "base-access-2"


def test_the_platform_answers_500_twice_then_200_every_order_once(admin_client, base) -> None:
    connect(admin_client, base)
    _shop(base)
    base.fail_with(500, 500)
    result = services.run_sync()
    assert result is not None and result.orders.created == 2 and Order.objects.count() == 2
    base.fail_with(502, 503, retry_after="0")
    services.run_sync()
    assert Order.objects.count() == 2 and not SyncState.objects.get(platform="base").last_error


def test_an_outage_leaves_the_cursor_and_the_next_sync_fetches_everything(admin_client, base) -> None:
    connect(admin_client, base)
    _shop(base)
    base.fail_with(*[503] * 4)
    services.run_sync()
    state = SyncState.objects.get(platform="base")
    assert "BASE に 4 回試しましたが応答がありません" in state.last_error and state.orders_cursor == ""
    result = services.run_sync()
    assert result is not None and result.orders.created == 2 and Order.objects.count() == 2


def test_a_revoked_authorisation_is_a_clear_japanese_error(admin_client, base) -> None:
    connect(admin_client, base)
    base.access_token = "revoked-elsewhere"
    services.run_sync()
    assert "BASE がアクセスを拒否しました（HTTP 401）" in SyncState.objects.get(platform="base").last_error
