"""Shopify's Admin GraphQL API with the shop's own access token (a custom app's Admin API token).

httpx2 (the maintained successor of httpx), not the ShopifyAPI package: that library builds every URL as https://<shop>/admin/…,
so it cannot be pointed at a local test server, and it needs its session set globally. A
GraphQL request is one POST; what this module adds is the paging (connections with edges,
cursors and pageInfo), Shopify's throttling (HTTP 429, or 200 with a THROTTLED error), and the
retries through an outage (shop.platform_http)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx2
from django.conf import settings
from django.utils.translation import gettext as _

from madoguchi.shop import platform_http
from madoguchi.shop.platform_http import PlatformError, PlatformUnavailable

PAGE_SIZE = 50
ORDERS_PAGE_SIZE = 10
TIMEOUT = httpx2.Timeout(30.0, connect=10.0)

# An order page asks for its first line items and fulfilments only: Shopify refuses a query whose
# calculated cost is over 1,000 points, and a connection or list costs its `first` times its
# node (our estimate: about 70 points an order as asked here, 700 a page of ten). An order with
# more line items is completed by `order(id:) { lineItems(after:) }` pages (LINE_ITEMS_QUERY,
# about 750 points each); fulfillments is a plain list (not a connection), so an order that
# filled FIRST_FULFILMENTS is asked again for up to MAX_FULFILMENTS (about 900 points).
FIRST_LINE_ITEMS = 10
LINE_ITEMS_PAGE = 250
FIRST_FULFILMENTS = 5
MAX_FULFILMENTS = 150
LINE_ITEM_FIELDS = "sku name quantity originalUnitPriceSet { shopMoney { amount } }"
FULFILMENT_FIELDS = """
    createdAt updatedAt deliveredAt inTransitAt displayStatus status
    trackingInfo(first: 5) { company number url }"""
ORDER_FIELDS = f"""
  id legacyResourceId name createdAt updatedAt cancelledAt email phone
  displayFinancialStatus displayFulfillmentStatus
  customer {{ firstName lastName email phone }}
  billingAddress {{ name phone }}
  shippingAddress {{ name phone }}
  totalPriceSet {{ shopMoney {{ amount currencyCode }} }}
  totalRefundedSet {{ shopMoney {{ amount currencyCode }} }}
  lineItems(first: {FIRST_LINE_ITEMS}) {{ edges {{ node {{ {LINE_ITEM_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }}
  fulfillments(first: {FIRST_FULFILMENTS}) {{ {FULFILMENT_FIELDS} }}
"""
LINE_ITEMS_QUERY = f"""
query OrderLineItems($id: ID!, $itemsAfter: String) {{
  order(id: $id) {{
    lineItems(first: {LINE_ITEMS_PAGE}, after: $itemsAfter) {{ edges {{ node {{ {LINE_ITEM_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }}
  }}
}}"""
FULFILMENTS_QUERY = f"""
query OrderFulfillments($id: ID!) {{ order(id: $id) {{ fulfillments(first: {MAX_FULFILMENTS}) {{ {FULFILMENT_FIELDS} }} }} }}"""
PRODUCT_FIELDS = """
  id legacyResourceId title handle descriptionHtml onlineStoreUrl updatedAt
  variants(first: 1) { edges { node { sku } } }
"""
ORDERS_QUERY = f"""
query Orders($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    edges {{ cursor node {{ {ORDER_FIELDS} }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}"""
ORDER_QUERY = f"query Order($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"
PRODUCTS_QUERY = f"""
query Products($first: Int!, $after: String, $query: String) {{
  products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    edges {{ cursor node {{ {PRODUCT_FIELDS} }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}"""
PRODUCT_QUERY = f"query Product($id: ID!) {{ product(id: $id) {{ {PRODUCT_FIELDS} }} }}"

DISCOUNT_CREATE = """
mutation DiscountCodeBasicCreate($basicCodeDiscount: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $basicCodeDiscount) {
    codeDiscountNode { id }
    userErrors { field code message }
  }
}"""
DISCOUNT_BY_CODE = "query DiscountByCode($code: String!) { codeDiscountNodeByCode(code: $code) { id } }"
CUSTOMER_BY_EMAIL = "query CustomerByEmail($query: String!) { customers(first: 1, query: $query) { edges { node { id } } } }"
WEBHOOKS_QUERY = """
query Webhooks($first: Int!, $after: String) {
  webhookSubscriptions(first: $first, after: $after) {
    edges { node { id topic endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
WEBHOOK_CREATE = """
mutation WebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic }
    userErrors { field message }
  }
}"""

LABEL = "Shopify"


def configured() -> bool:
    return bool(settings.MADOGUCHI_SHOPIFY_SHOP_URL and settings.MADOGUCHI_SHOPIFY_ACCESS_TOKEN)


def _since(cursor: str) -> str | None:
    # Shopify's search syntax; >= so orders sharing the cursor's second are not skipped (an
    # order fetched again is written again, which changes nothing).
    return f"updated_at:>='{cursor}'" if cursor else None


def throttle_wait(payload: dict[str, Any], attempt: int) -> float:
    """Seconds until Shopify's leaky bucket holds the points the throttled query asked for: its
    answer's extensions.cost gives requestedQueryCost and throttleStatus (currentlyAvailable,
    restoreRate points a second). Without them: the doubling wait."""
    cost = (payload.get("extensions") or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    try:
        missing = float(cost["requestedQueryCost"]) - float(status["currentlyAvailable"])
        rate = float(status["restoreRate"])
    except (KeyError, TypeError, ValueError):
        return platform_http.backoff(attempt)
    if rate <= 0:
        return platform_http.backoff(attempt)
    return max(missing / rate, 0.05)


class ShopifyClient:
    def __init__(self, http: httpx2.Client | None = None) -> None:
        if not configured():
            raise PlatformError(_("Shopify の接続が設定されていません（MADOGUCHI_SHOPIFY_SHOP_URL と MADOGUCHI_SHOPIFY_ACCESS_TOKEN）。"))
        self.url = f"{settings.MADOGUCHI_SHOPIFY_SHOP_URL}/admin/api/{settings.MADOGUCHI_SHOPIFY_API_VERSION}/graphql.json"
        self.http = http or httpx2.Client(timeout=TIMEOUT, headers={
            "X-Shopify-Access-Token": settings.MADOGUCHI_SHOPIFY_ACCESS_TOKEN, "Content-Type": "application/json"})

    def __enter__(self) -> ShopifyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def query(self, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        attempts = max(1, int(settings.MADOGUCHI_SHOP_SYNC_ATTEMPTS))
        for attempt in range(1, attempts + 1):
            response = platform_http.request(self.http, "POST", self.url, platform=LABEL,
                                             json={"query": document, "variables": variables})
            if response.status_code in (401, 403):
                raise PlatformError(_("Shopify がアクセスを拒否しました（HTTP %(status)s）。アクセストークンと権限（read_orders, read_products, write_discounts）を確かめてください。")
                                    % {"status": response.status_code})
            if response.status_code != 200:
                raise PlatformError(_("Shopify が HTTP %(status)s を返しました。") % {"status": response.status_code})
            try:
                payload = response.json()
            except ValueError as error:
                raise PlatformError(_("Shopify の応答を JSON として読めません。")) from error
            errors = payload.get("errors") or []
            if any((error.get("extensions") or {}).get("code") == "THROTTLED" for error in errors if isinstance(error, dict)):
                if attempt == attempts:
                    raise PlatformUnavailable(_("Shopify の API 利用制限が続いています。次の同期でもう一度試します。"))
                time.sleep(min(throttle_wait(payload, attempt), settings.MADOGUCHI_SHOP_SYNC_MAX_WAIT_SECONDS))
                continue
            if errors:
                message = "; ".join(str(error.get("message", error)) if isinstance(error, dict) else str(error) for error in errors)
                raise PlatformError(_("Shopify がエラーを返しました: %(errors)s") % {"errors": message[:500]})
            data = payload.get("data")
            if not isinstance(data, dict):
                raise PlatformError(_("Shopify の応答に data がありません。"))
            return data
        raise AssertionError("unreachable")

    def _pages(self, document: str, root: str, since: str, size: int | None = None) -> Iterator[list[dict[str, Any]]]:
        after: str | None = None
        while True:
            data = self.query(document, {"first": size or PAGE_SIZE, "after": after, "query": _since(since)})
            connection = data.get(root) or {}
            yield [edge["node"] for edge in connection.get("edges") or [] if edge.get("node")]
            info = connection.get("pageInfo") or {}
            if not info.get("hasNextPage") or not info.get("endCursor"):
                return
            after = info["endCursor"]

    def orders(self, updated_since: str = "") -> Iterator[list[dict[str, Any]]]:
        """Pages of orders updated at or after `updated_since` (ISO 8601), oldest change first,
        each order with all its line items and fulfilments."""
        for nodes in self._pages(ORDERS_QUERY, "orders", updated_since, min(ORDERS_PAGE_SIZE, PAGE_SIZE)):
            yield [self._complete(node) for node in nodes]

    def products(self, updated_since: str = "") -> Iterator[list[dict[str, Any]]]:
        return self._pages(PRODUCTS_QUERY, "products", updated_since)

    def order(self, gid: str) -> dict[str, Any] | None:
        node = self.query(ORDER_QUERY, {"id": gid}).get("order")
        return self._complete(node) if node else None

    def _complete(self, node: dict[str, Any]) -> dict[str, Any]:
        """The order with the line items and fulfilments its first answer left out."""
        items = node.get("lineItems") or {}
        info = items.get("pageInfo") or {}
        edges = list(items.get("edges") or [])
        while info.get("hasNextPage") and info.get("endCursor"):
            more = (self.query(LINE_ITEMS_QUERY, {"id": node["id"], "itemsAfter": info["endCursor"]}).get("order") or {})
            connection = more.get("lineItems") or {}
            edges += connection.get("edges") or []
            info = connection.get("pageInfo") or {}
        node["lineItems"] = {"edges": edges, "pageInfo": {"hasNextPage": False, "endCursor": info.get("endCursor")}}
        if len(node.get("fulfillments") or []) >= FIRST_FULFILMENTS:
            more = self.query(FULFILMENTS_QUERY, {"id": node["id"]}).get("order") or {}
            node["fulfillments"] = more.get("fulfillments") or node["fulfillments"]
        return node

    def product(self, gid: str) -> dict[str, Any] | None:
        return self.query(PRODUCT_QUERY, {"id": gid}).get("product")

    # --- discount codes and webhook subscriptions ------------------------------------------

    def discount_by_code(self, code: str) -> str | None:
        """The id of the code discount that has this code (codeDiscountNodeByCode), if any."""
        node = self.query(DISCOUNT_BY_CODE, {"code": code}).get("codeDiscountNodeByCode")
        return str(node["id"]) if isinstance(node, dict) and node.get("id") else None

    def customer_by_email(self, email: str) -> str | None:
        escaped = email.replace("\\", "").replace('"', "")
        data = self.query(CUSTOMER_BY_EMAIL, {"query": f'email:"{escaped}"'})
        edges = (data.get("customers") or {}).get("edges") or []
        node = (edges[0].get("node") or {}) if edges else {}
        return str(node["id"]) if node.get("id") else None

    def create_discount(self, basic: dict[str, Any]) -> tuple[str | None, list[dict[str, Any]]]:
        """discountCodeBasicCreate: (the new node's id, Shopify's userErrors)."""
        answer = self.query(DISCOUNT_CREATE, {"basicCodeDiscount": basic}).get("discountCodeBasicCreate") or {}
        node = answer.get("codeDiscountNode") or {}
        return (str(node["id"]) if node.get("id") else None), list(answer.get("userErrors") or [])

    def webhooks(self) -> list[dict[str, Any]]:
        """Every webhook subscription of the app (topic, callback URL)."""
        found: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            connection = self.query(WEBHOOKS_QUERY, {"first": 100, "after": after}).get("webhookSubscriptions") or {}
            found += [edge["node"] for edge in connection.get("edges") or [] if edge.get("node")]
            info = connection.get("pageInfo") or {}
            if not info.get("hasNextPage") or not info.get("endCursor"):
                return found
            after = info["endCursor"]

    def create_webhook(self, topic: str, callback_url: str) -> list[dict[str, Any]]:
        """webhookSubscriptionCreate (JSON): Shopify's userErrors, empty when it was created."""
        answer = self.query(WEBHOOK_CREATE, {"topic": topic, "webhookSubscription": {"callbackUrl": callback_url, "format": "JSON"}})
        return list((answer.get("webhookSubscriptionCreate") or {}).get("userErrors") or [])
