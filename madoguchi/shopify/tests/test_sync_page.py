"""The admins' page of shop connections (/settings/orders/sync/): each platform's state, last sync,
last error and counts, and 「今すぐ同期」 queueing a sync; linked from the settings page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from madoguchi.accounts.models import Role
from madoguchi.shop.models import Order
from madoguchi.testing.factories import UserFactory
from madoguchi.testing.fake_platforms import shopify_order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("huey_immediate")]


def test_admin_sees_each_connection_and_syncs_now(client, shopify, django_capture_on_commit_callbacks) -> None:
    client.force_login(UserFactory(username="tencho", role=Role.ADMIN))
    assert reverse("shop:sync") in client.get(reverse("accounts:settings")).content.decode()
    page = client.get(reverse("shop:sync")).content.decode()
    assert 'data-platform="shopify"' in page and 'data-platform="base"' in page
    assert "接続済み" in page and "未設定" in page  # Shopify configured, BASE not
    assert "今すぐ同期" in page and 'data-testid="sync-now-base"' not in page

    shopify.put_order(shopify_order(1001, updated_at="2026-11-20T03:00:00Z", email="hanako.yamada@example.jp",
                                    last_name="山田", first_name="花子"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("shop:sync_now", args=["shopify"]), follow=True)
    assert "Shopify の同期を予約しました" in response.content.decode()
    assert Order.objects.filter(source="shopify").count() == 1
    page = client.get(reverse("shop:sync")).content.decode()
    assert "新規 1・更新 0・商品 0" in page and '<td class="num">1</td>' in page

    shopify.fail_with(*[500] * 4)
    client.post(reverse("shop:sync_now", args=["shopify"]))
    page = client.get(reverse("shop:sync")).content.decode()
    assert "Shopify に 4 回試しましたが応答がありません" in page

    refused = client.post(reverse("shop:sync_now", args=["base"]), follow=True).content.decode()
    assert "BASE の接続が設定されていないため、同期できません。" in refused
    assert client.post(reverse("shop:sync_now", args=["rakuten"])).status_code == 404


def test_agents_cannot_open_it(client) -> None:
    client.force_login(UserFactory(username="tanaka", role=Role.AGENT))
    assert client.get(reverse("shop:sync")).status_code == 403
    assert client.post(reverse("shop:sync_now", args=["shopify"])).status_code == 403
