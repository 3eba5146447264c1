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
TIMEOUT = httpx2.Timeout(30.0, connect=10.0)

ORDER_FIELDS = """
  id legacyResourceId name createdAt updatedAt cancelledAt email phone
  displayFinancialStatus displayFulfillmentStatus
  customer { firstName lastName email phone }
  billingAddress { name phone }
  shippingAddress { name phone }
  totalPriceSet { shopMoney { amount currencyCode } }
  totalRefundedSet { shopMoney { amount currencyCode } }
  lineItems(first: 100) { edges { node { sku name quantity originalUnitPriceSet { shopMoney { amount } } } } }
  fulfillments(first: 20) {
    createdAt updatedAt deliveredAt inTransitAt displayStatus status
    trackingInfo(first: 5) { company number url }
  }
"""
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

LABEL = "Shopify"


def configured() -> bool:
    return bool(settings.MADOGUCHI_SHOPIFY_SHOP_URL and settings.MADOGUCHI_SHOPIFY_ACCESS_TOKEN)


def _since(cursor: str) -> str | None:
    # Shopify's search syntax; >= so orders sharing the cursor's second are not skipped (an
    # order fetched again is written again, which changes nothing).
    return f"updated_at:>='{cursor}'" if cursor else None


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
                raise PlatformError(_("Shopify がアクセスを拒否しました（HTTP %(status)s）。アクセストークンと権限（read_orders, read_products）を確かめてください。")
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
                time.sleep(min(platform_http.backoff(attempt), settings.MADOGUCHI_SHOP_SYNC_MAX_WAIT_SECONDS))
                continue
            if errors:
                message = "; ".join(str(error.get("message", error)) if isinstance(error, dict) else str(error) for error in errors)
                raise PlatformError(_("Shopify がエラーを返しました: %(errors)s") % {"errors": message[:500]})
            data = payload.get("data")
            if not isinstance(data, dict):
                raise PlatformError(_("Shopify の応答に data がありません。"))
            return data
        raise AssertionError("unreachable")

    def _pages(self, document: str, root: str, since: str) -> Iterator[list[dict[str, Any]]]:
        after: str | None = None
        while True:
            data = self.query(document, {"first": PAGE_SIZE, "after": after, "query": _since(since)})
            connection = data.get(root) or {}
            yield [edge["node"] for edge in connection.get("edges") or [] if edge.get("node")]
            info = connection.get("pageInfo") or {}
            if not info.get("hasNextPage") or not info.get("endCursor"):
                return
            after = info["endCursor"]

    def orders(self, updated_since: str = "") -> Iterator[list[dict[str, Any]]]:
        """Pages of orders updated at or after `updated_since` (ISO 8601), oldest change first."""
        return self._pages(ORDERS_QUERY, "orders", updated_since)

    def products(self, updated_since: str = "") -> Iterator[list[dict[str, Any]]]:
        return self._pages(PRODUCTS_QUERY, "products", updated_since)

    def order(self, gid: str) -> dict[str, Any] | None:
        return self.query(ORDER_QUERY, {"id": gid}).get("order")

    def product(self, gid: str) -> dict[str, Any] | None:
        return self.query(PRODUCT_QUERY, {"id": gid}).get("product")
