"""「Webhook を登録」on the shop connections page (/settings/orders/sync/): one click by an admin
subscribes orders/create, orders/updated, fulfillments/create and fulfillments/update to the
desk's public address (MADOGUCHI_SITE_URL) through webhookSubscriptionCreate; a second click
creates nothing (existing subscriptions are listed first); what cannot work is said in Japanese."""

from __future__ import annotations

import pytest
from django.urls import reverse

from madoguchi.accounts.models import Role
from madoguchi.testing.factories import UserFactory

pytestmark = pytest.mark.django_db
SITE = "https://madoguchi.komorebido.jp"
CALLBACK = SITE + "/shopify/webhook/"
REGISTER = "/shopify/webhooks/register/"


@pytest.fixture
def admin(client, settings):
    settings.SITE_URL = SITE
    client.force_login(UserFactory(username="tencho", role=Role.ADMIN))
    return client


def _subscribed(fake) -> list[tuple[str, str]]:
    return sorted((hook["topic"], hook["endpoint"]["callbackUrl"]) for hook in fake.webhooks)


def _creates(fake) -> int:
    return len(fake.webhooks)


def test_one_click_registers_the_four_topics_and_a_second_click_nothing(admin, shopify) -> None:
    page = admin.get(reverse("shop:sync")).content.decode()
    assert f'action="{REGISTER}"' in page and "Webhook を登録" in page
    response = admin.post(REGISTER, follow=True)
    text = response.content.decode()
    assert response.redirect_chain == [(reverse("shop:sync"), 302)]
    assert "Shopify に Webhook を登録しました: orders/create, orders/updated, fulfillments/create, fulfillments/update" in text
    assert _subscribed(shopify) == sorted([("ORDERS_CREATE", CALLBACK), ("ORDERS_UPDATED", CALLBACK),
                                           ("FULFILLMENTS_CREATE", CALLBACK), ("FULFILLMENTS_UPDATE", CALLBACK)])
    requests = len(shopify.requests)
    text = admin.post(REGISTER, follow=True).content.decode()
    assert "Shopify の Webhook はすべて登録済みです" in text
    assert _creates(shopify) == 4 and len(shopify.requests) == requests + 1  # listed only


def test_only_missing_topics_are_added_and_another_address_is_left_alone(admin, shopify) -> None:
    shopify.webhooks = [
        {"id": "gid://shopify/WebhookSubscription/1", "topic": "ORDERS_CREATE",
         "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": CALLBACK}},
        {"id": "gid://shopify/WebhookSubscription/2", "topic": "ORDERS_UPDATED",
         "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": "https://old-helpdesk.example.jp/hooks"}},
    ]
    text = admin.post(REGISTER, follow=True).content.decode()
    assert "登録済みだったもの: orders/create" in text
    assert ("ORDERS_UPDATED", CALLBACK) in _subscribed(shopify) and _creates(shopify) == 5
    assert ("ORDERS_UPDATED", "https://old-helpdesk.example.jp/hooks") in _subscribed(shopify)


def test_shopifys_user_errors_are_shown_in_japanese(admin, shopify) -> None:
    shopify.refuse_webhooks = [{"field": ["webhookSubscription", "callbackUrl"], "message": "Address is an invalid domain"}]
    text = admin.post(REGISTER, follow=True).content.decode()
    assert "Shopify が Webhook の登録を受け付けませんでした（orders/create: Address is an invalid domain" in text
    assert _creates(shopify) == 0


def test_an_address_shopify_cannot_reach_is_refused_before_asking(admin, shopify, settings) -> None:
    for site, said in [("http://madoguchi.komorebido.jp", "https ではありません"),
                       ("https://127.0.0.1:8000", "インターネットから届きません"),
                       ("https://localhost", "インターネットから届きません")]:
        settings.SITE_URL = site
        text = admin.post(REGISTER, follow=True).content.decode()
        assert said in text and "MADOGUCHI_SITE_URL" in text, site
    assert shopify.requests == []


def test_without_the_webhook_secret_nothing_is_registered(admin, shopify, settings) -> None:
    settings.MADOGUCHI_SHOPIFY_WEBHOOK_SECRET = ""
    text = admin.post(REGISTER, follow=True).content.decode()
    assert "MADOGUCHI_SHOPIFY_WEBHOOK_SECRET が設定されていません" in text and shopify.requests == []


def test_shopify_down_is_said_in_japanese(admin, shopify) -> None:
    shopify.fail_with(503, 503, 503, 503)
    text = admin.post(REGISTER, follow=True).content.decode()
    assert "Shopify に 4 回試しましたが応答がありません" in text and _creates(shopify) == 0
    text = admin.post(REGISTER, follow=True).content.decode()  # back: registers
    assert "Shopify に Webhook を登録しました" in text and _creates(shopify) == 4


def test_only_admins_register_and_only_by_post(client, shopify, settings) -> None:
    settings.SITE_URL = SITE
    assert client.post(REGISTER).status_code == 302  # to the login page
    client.force_login(UserFactory(username="tanaka", role=Role.AGENT))
    assert client.post(REGISTER).status_code == 403
    client.force_login(UserFactory(username="sato", role=Role.LEAD))
    assert client.post(REGISTER).status_code == 403
    client.force_login(UserFactory(username="tencho", role=Role.ADMIN))
    assert client.get(REGISTER).status_code == 405
    assert shopify.requests == []


def test_no_button_while_shopify_is_not_configured(admin, settings) -> None:
    settings.MADOGUCHI_SHOPIFY_SHOP_URL = ""
    assert REGISTER not in admin.get(reverse("shop:sync")).content.decode()
    text = admin.post(REGISTER, follow=True).content.decode()
    assert "Shopify の接続が設定されていません" in text
