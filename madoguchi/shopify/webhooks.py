"""Subscribing the desk to Shopify's webhooks, from /settings/orders/sync/ (an admin clicks
「Webhook を登録」once): orders/create, orders/updated, fulfillments/create and
fulfillments/update, sent as JSON to MADOGUCHI_SITE_URL + /shopify/webhook/.

Idempotent: the app's subscriptions are listed first and a topic already sent to that address is
left alone, so a second click creates nothing. Shopify's userErrors come back in Japanese with
Shopify's own words."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from madoguchi.shop.platform_http import PlatformError
from madoguchi.shopify import client

# WebhookSubscriptionTopic values and the topics Shopify names in X-Shopify-Topic.
TOPICS = {"ORDERS_CREATE": "orders/create", "ORDERS_UPDATED": "orders/updated",
          "FULFILLMENTS_CREATE": "fulfillments/create", "FULFILLMENTS_UPDATE": "fulfillments/update"}


def callback_url() -> str:
    return settings.SITE_URL.rstrip("/") + reverse("shopify:webhook")


def action() -> tuple[str, str]:
    """The sync page's button for Shopify (shop.sync.Connection.action)."""
    if not client.configured():
        return "", ""
    return _("Webhook を登録"), reverse("shopify:register_webhooks")


@dataclass
class Registered:
    url: str
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)

    def message(self) -> str:
        if not self.created:
            return _("Shopify の Webhook はすべて登録済みです（%(topics)s → %(url)s）。") % {
                "topics": ", ".join(self.existing), "url": self.url}
        text = _("Shopify に Webhook を登録しました: %(topics)s → %(url)s。") % {"topics": ", ".join(self.created), "url": self.url}
        if self.existing:
            text += " " + _("登録済みだったもの: %(topics)s。") % {"topics": ", ".join(self.existing)}
        return text


def _check_address(url: str) -> None:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "https":
        raise PlatformError(_("窓口の公開アドレス（MADOGUCHI_SITE_URL: %(url)s）が https ではありません。Shopify は https のアドレスにしか Webhook を送りません。")
                            % {"url": settings.SITE_URL})
    if host in ("localhost", "127.0.0.1", "::1") or host.endswith(".local") or "." not in host:
        raise PlatformError(_("窓口の公開アドレス（MADOGUCHI_SITE_URL: %(url)s）はインターネットから届きません。Shopify から届く公開アドレスを設定してください。")
                            % {"url": settings.SITE_URL})


def _endpoint(node: dict[str, Any]) -> str:
    endpoint = node.get("endpoint") or {}
    return str(endpoint.get("callbackUrl") or node.get("callbackUrl") or "")


def register() -> Registered:
    """Subscribe every topic the desk needs that is not yet sent to this desk; PlatformError
    (Japanese) when it cannot (address, secret, Shopify's answer)."""
    if not client.configured():
        client.ShopifyClient()  # raises the reason (which settings are missing)
    if not settings.MADOGUCHI_SHOPIFY_WEBHOOK_SECRET:
        raise PlatformError(_("MADOGUCHI_SHOPIFY_WEBHOOK_SECRET が設定されていません。署名を確かめられないため、届いた Webhook はすべて拒否されます。先に設定してください。"))
    url = callback_url()
    _check_address(url)
    outcome = Registered(url=url)
    with client.ShopifyClient() as shopify:
        have = {(str(node.get("topic") or ""), _endpoint(node)) for node in shopify.webhooks()}
        problems = []
        for topic, name in TOPICS.items():
            if (topic, url) in have:
                outcome.existing.append(name)
                continue
            errors = shopify.create_webhook(topic, url)
            if errors:
                problems.append(_("%(topic)s: %(message)s") % {
                    "topic": name, "message": "; ".join(str(error.get("message") or error) for error in errors)[:300]})
            else:
                outcome.created.append(name)
    if problems:
        done = (" " + _("登録できたもの: %(topics)s。") % {"topics": ", ".join(outcome.created)}) if outcome.created else ""
        raise PlatformError(_("Shopify が Webhook の登録を受け付けませんでした（%(problems)s）。") % {"problems": " / ".join(problems)} + done)
    return outcome
