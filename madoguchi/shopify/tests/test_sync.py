"""Shopify live sync against a local Shopify speaking the Admin GraphQL API's documented shapes:
orders and products by their updated_at cursor, paged with GraphQL cursors; the importer's
matching (customers by e-mail or phone, orders by their key); outages retried without loss."""

from __future__ import annotations

import time

import pytest

from madoguchi.customers.models import Customer, Identity, IdentityKind
from madoguchi.shop import sync
from madoguchi.shop.importer import do_import_file
from madoguchi.shop.models import (
    Carrier,
    DeliveryStatus,
    Order,
    OrderItem,
    OrderStatus,
    Passage,
    Product,
    SyncState,
)
from madoguchi.shop.tests.samples import realistic_orders, shopify_file
from madoguchi.shopify import client as shopify_client
from madoguchi.shopify import services
from madoguchi.testing.factories import CaseFactory
from madoguchi.testing.fake_platforms import shopify_fulfilment, shopify_order, shopify_product

pytestmark = pytest.mark.django_db

MUG_HTML = ("<h2>有田焼 マグカップ 380ml</h2><p>佐賀県有田町の窯元で一つずつ絵付けしています。</p>"
            "<p>電子レンジ・食器洗い乾燥機に対応しています。</p><ul><li>容量: 380ml</li><li>直径 8.5cm</li></ul>")


def _orders(fake, count: int = 3) -> None:
    people = [("山田", "花子", "hanako.yamada@example.jp", "090-1234-5678"),
              ("佐藤", "健一", "kenichi.sato@example.ne.jp", "080-2345-6789"),
              ("鈴木", "美咲", "misaki.suzuki@example.co.jp", "")]
    for index in range(count):
        last, first, email, phone = people[index % len(people)]
        fake.put_order(shopify_order(1001 + index, updated_at=f"2026-11-2{index}T03:00:00Z", email=email, last_name=last,
                                     first_name=first, phone=phone,
                                     items=[("ARITA-MUG-380", "有田焼 マグカップ 380ml - 藍", 2, 2750),
                                            ("IMABARI-BT-2", "今治タオル バスタオル 2枚組", 1, 3300)]))


def test_first_sync_creates_orders_customers_items_products_and_passages_and_a_second_changes_nothing(shopify) -> None:
    _orders(shopify)
    shopify.put_product(shopify_product(8101, title="有田焼 マグカップ 380ml", sku="ARITA-MUG-380",
                                        description_html=MUG_HTML, updated_at="2026-11-01T00:00:00Z"))
    result = services.run_sync()
    assert result is not None and (result.orders.created, result.orders.updated, result.products) == (3, 0, 1)
    order = Order.objects.get(number="1001")
    assert (order.source, order.external_id, order.status, order.amount_yen) == ("shopify", "#1001", OrderStatus.PAID, 9400)
    assert order.customer.name == "山田 花子"
    assert set(order.customer.identities.values_list("kind", "value")) == {(IdentityKind.EMAIL, "hanako.yamada@example.jp"),
                                                                          (IdentityKind.PHONE, "09012345678")}
    assert list(order.items.order_by("pk").values_list("sku", "quantity", "unit_price_yen")) == [
        ("ARITA-MUG-380", 2, 2750), ("IMABARI-BT-2", 1, 3300)]
    mug = Product.objects.get(sku="ARITA-MUG-380")
    assert (mug.source, mug.external_id, mug.url) == ("shopify", "8101", "https://komorebido.example.jp/products/item-8101")
    assert list(mug.passages.values_list("position", "text")) == [
        (1, "有田焼 マグカップ 380ml"), (2, "佐賀県有田町の窯元で一つずつ絵付けしています。"),
        (3, "電子レンジ・食器洗い乾燥機に対応しています。"), (4, "容量: 380ml"), (5, "直径 8.5cm")]
    assert order.items.get(sku="ARITA-MUG-380").product == mug  # the line points at the synced product
    state = SyncState.objects.get(platform="shopify")
    assert state.orders_cursor == "2026-11-22T03:00:00Z" and state.last_synced_at and not state.last_error
    counts = (Order.objects.count(), Customer.objects.count(), OrderItem.objects.count(), Product.objects.count(),
              Passage.objects.count())

    again = services.run_sync()
    assert again is not None and (again.orders.created, again.orders.updated, again.products) == (0, 0, 0)
    assert (Order.objects.count(), Customer.objects.count(), OrderItem.objects.count(), Product.objects.count(),
            Passage.objects.count()) == counts


def test_a_changed_order_is_updated_with_its_fulfilment_tracking_and_delivery_status(shopify) -> None:
    _orders(shopify, 1)
    services.run_sync()
    node = shopify_order(1001, updated_at="2026-11-25T09:30:00Z", email="hanako.yamada@example.jp", last_name="山田",
                         first_name="花子", phone="090-1234-5678",
                         items=[("ARITA-MUG-380", "有田焼 マグカップ 380ml - 藍", 2, 2750),
                                ("IMABARI-BT-2", "今治タオル バスタオル 2枚組", 1, 3300)],
                         fulfilments=[shopify_fulfilment(created_at="2026-11-23T02:00:00Z", number="4567-8901-2345",
                                                         display_status="DELIVERED", updated_at="2026-11-25T09:30:00Z",
                                                         delivered_at="2026-11-25T05:12:00Z")])
    shopify.put_order(node)
    result = services.run_sync()
    assert result is not None and (result.orders.created, result.orders.updated) == (0, 1)
    order = Order.objects.get(number="1001")
    assert (order.status, order.tracking_number, order.carrier, order.delivery_status) == (
        OrderStatus.FULFILLED, "456789012345", Carrier.YAMATO, DeliveryStatus.DELIVERED)
    assert order.delivery_status_at.isoformat() == "2026-11-25T05:12:00+00:00" == order.delivered_at.isoformat()
    assert order.shipped_at.isoformat() == "2026-11-23T02:00:00+00:00"
    assert Order.objects.count() == 1 and Customer.objects.count() == 1


def test_orders_are_fetched_page_by_page_and_an_existing_customer_is_matched_by_phone(shopify, monkeypatch) -> None:
    monkeypatch.setattr(shopify_client, "PAGE_SIZE", 2)
    known = Customer.objects.create(name="佐藤 健一")
    Identity.objects.create(customer=known, kind=IdentityKind.PHONE, value="08023456789")
    _orders(shopify, 7)
    result = services.run_sync()
    assert result is not None and result.orders.created == 7
    assert len([r for r in shopify.requests if r[0] == "POST"]) >= 4 + 1  # 4 pages of orders, 1 of products
    assert set(Order.objects.filter(customer=known).values_list("number", flat=True)) == {"1002", "1005"}
    assert Customer.objects.count() == 3


def test_an_order_imported_from_the_csv_export_is_the_same_order_when_synced(shopify) -> None:
    """One upsert for both ways in: the CSV's Name (#100001) is the sync's key."""
    import io

    sample = next(realistic_orders(1))
    do_import_file(io.BytesIO(shopify_file([sample])), file_name="orders_export.csv")
    imported = Order.objects.get()
    shopify.put_order(shopify_order(int(imported.number), updated_at="2026-11-30T00:00:00Z", email=sample.email,
                                    last_name="山田", first_name="花子",
                                    fulfilments=[shopify_fulfilment(created_at="2026-11-29T00:00:00Z", number="1111-2222-3333")]))
    result = services.run_sync()
    assert result is not None and (result.orders.created, result.orders.updated) == (0, 1)
    assert Order.objects.get().pk == imported.pk and Order.objects.get().tracking_number == "111122223333"


def test_the_platform_answers_500_twice_then_200_every_order_once(shopify) -> None:
    _orders(shopify, 3)
    shopify.fail_with(500, 500)
    result = services.run_sync()
    assert result is not None and result.orders.created == 3
    assert Order.objects.count() == 3 and len(set(Order.objects.values_list("external_id", flat=True))) == 3
    assert not SyncState.objects.get(platform="shopify").last_error


def test_a_long_outage_stops_the_sync_with_a_japanese_error_and_the_next_run_loses_nothing(shopify, monkeypatch) -> None:
    monkeypatch.setattr(shopify_client, "PAGE_SIZE", 2)
    _orders(shopify, 5)
    shopify.put_product(shopify_product(8101, title="有田焼 マグカップ 380ml", sku="ARITA-MUG-380",
                                        description_html=MUG_HTML, updated_at="2026-11-01T00:00:00Z"))
    # The products page and the first orders page come through; then Shopify is down for good.
    original = shopify.handle
    answered = []

    def flaky(method, path, headers, body):
        answered.append(1)
        if len(answered) > 2:
            return 503, {"errors": "Service Unavailable"}
        return original(method, path, headers, body)

    shopify.handle = flaky
    result = services.run_sync()
    state = SyncState.objects.get(platform="shopify")
    assert result is not None and result.orders.created == 2
    assert "Shopify に 4 回試しましたが応答がありません" in state.last_error and state.last_error_at
    assert state.orders_cursor == "2026-11-21T03:00:00Z"  # the page written, not the one that failed
    assert Order.objects.count() == 2

    shopify.handle = original
    again = services.run_sync()
    assert again is not None and again.orders.created == 3
    assert Order.objects.count() == 5 and not SyncState.objects.get(platform="shopify").last_error


def test_429_with_retry_after_is_honoured(shopify) -> None:
    _orders(shopify, 1)
    shopify.fail_with(429, retry_after="1")
    started = time.monotonic()
    result = services.run_sync()
    assert time.monotonic() - started >= 1.0  # the backoff alone is 10 ms
    assert result is not None and result.orders.created == 1


def test_graphql_throttling_is_waited_out(shopify) -> None:
    _orders(shopify, 1)
    shopify.throttle_next = 2
    result = services.run_sync()
    assert result is not None and result.orders.created == 1


def test_a_wrong_access_token_is_a_clear_japanese_error(shopify, settings) -> None:
    settings.MADOGUCHI_SHOPIFY_ACCESS_TOKEN = "shpat_wrong"
    services.run_sync()
    assert "Shopify がアクセスを拒否しました（HTTP 401）" in SyncState.objects.get(platform="shopify").last_error


def test_a_changed_product_text_keeps_the_old_passage_the_case_points_at(shopify) -> None:
    shopify.put_product(shopify_product(8101, title="有田焼 マグカップ 380ml", sku="ARITA-MUG-380",
                                        description_html=MUG_HTML, updated_at="2026-11-01T00:00:00Z"))
    services.run_sync()
    misread = Passage.objects.get(position=3)
    case = CaseFactory(passage=misread)
    shopify.put_product(shopify_product(8101, title="有田焼 マグカップ 380ml", sku="ARITA-MUG-380",
                                        description_html=MUG_HTML.replace("電子レンジ・食器洗い乾燥機に対応しています。",
                                                                          "電子レンジに対応しています（食器洗い乾燥機は不可）。"),
                                        updated_at="2026-12-01T00:00:00Z"))
    result = services.run_sync()
    assert result is not None and result.products == 1
    case.refresh_from_db()
    assert case.passage.text == "電子レンジ・食器洗い乾燥機に対応しています。"  # what the customer read
    assert case.passage.valid_to.isoformat() == "2026-12-01T00:00:00+00:00"
    current = Passage.objects.get(position=3, valid_to__isnull=True)
    assert current.text == "電子レンジに対応しています（食器洗い乾燥機は不可）。"
    assert current.valid_from.isoformat() == "2026-12-01T00:00:00+00:00"
    assert Passage.objects.filter(valid_to__isnull=True).count() == 5 and Passage.objects.count() == 6


def test_two_syncs_at_once_do_not_run_together(shopify) -> None:
    _orders(shopify, 1)
    sync.state("shopify")
    assert sync._claim("shopify")
    assert services.run_sync() is None and Order.objects.count() == 0


def test_the_scheduled_job_syncs_every_few_minutes_not_every_minute(shopify, settings) -> None:
    import datetime as dt

    from madoguchi.shopify.tasks import shopify_sync_job

    settings.MADOGUCHI_SHOP_SYNC_MINUTES = 15
    _orders(shopify, 1)
    assert shopify_sync_job.call_local().startswith("orders +1")
    assert shopify_sync_job.call_local() == "not due"
    SyncState.objects.update(last_synced_at=SyncState.objects.get().last_synced_at - dt.timedelta(minutes=15))
    assert shopify_sync_job.call_local().startswith("orders +0")
