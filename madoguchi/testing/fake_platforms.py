"""Local stand-ins for the shop platforms' APIs, for tests: small threaded HTTP servers that
answer with the payload shapes the platforms document (Shopify's Admin GraphQL `orders` and
`products` connections with edges, node and pageInfo; BASE's /1/orders, /1/orders/detail,
/1/items and /1/oauth/token). They can be told to fail (`fail_with`: statuses answered before
the real answer, with Retry-After if given) and keep every request they saw."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Failure:
    status: int
    retry_after: str = ""


@dataclass
class FakeServer:
    server: ThreadingHTTPServer | None = None
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    failures: list[Failure] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def fail_with(self, *statuses: int, retry_after: str = "") -> None:
        with self.lock:
            self.failures += [Failure(status, retry_after) for status in statuses]

    def start(self) -> FakeServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet in tests
                pass

            def _answer(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with fake.lock:
                    fake.requests.append((method, self.path))
                    failure = fake.failures.pop(0) if fake.failures else None
                if failure is not None:
                    self.send_response(failure.status)
                    if failure.retry_after:
                        self.send_header("Retry-After", failure.retry_after)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"errors": "Service unavailable"}')
                    return
                status, payload = fake.handle(method, self.path, dict(self.headers), body)
                data = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                self._answer("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._answer("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        raise NotImplementedError


# --- Shopify -----------------------------------------------------------------------------------


def money(amount: int | str) -> dict[str, Any]:
    return {"shopMoney": {"amount": f"{amount}.0" if isinstance(amount, int) else amount, "currencyCode": "JPY"}}


def shopify_order(number: int, *, updated_at: str, email: str, last_name: str, first_name: str, phone: str = "",
                  items: list[tuple[str, str, int, int]] | None = None, fulfilments: list[dict[str, Any]] | None = None,
                  financial: str = "PAID", cancelled_at: str | None = None, refunded: int = 0,
                  created_at: str = "2026-11-20T01:15:00Z") -> dict[str, Any]:
    """An Order node as the Admin GraphQL API returns it (the fields madoguchi.shopify asks for)."""
    items = items or [("ARITA-MUG-380", "有田焼 マグカップ 380ml - 藍", 2, 2750)]
    total = sum(quantity * price for _sku, _name, quantity, price in items) + 600
    return {
        "id": f"gid://shopify/Order/{5000000 + number}", "legacyResourceId": str(5000000 + number), "name": f"#{number}",
        "createdAt": created_at, "updatedAt": updated_at, "cancelledAt": cancelled_at, "email": email, "phone": phone or None,
        "displayFinancialStatus": financial,
        "displayFulfillmentStatus": "FULFILLED" if fulfilments else "UNFULFILLED",
        "customer": {"firstName": first_name, "lastName": last_name, "email": email, "phone": phone or None},
        "billingAddress": {"name": f"{last_name} {first_name}", "phone": phone or None},
        "shippingAddress": {"name": f"{last_name} {first_name}", "phone": phone or None},
        "totalPriceSet": money(total), "totalRefundedSet": money(refunded),
        "lineItems": {"edges": [{"node": {"sku": sku, "name": name, "quantity": quantity,
                                          "originalUnitPriceSet": money(price)}} for sku, name, quantity, price in items]},
        "fulfillments": fulfilments or [],
    }


def shopify_fulfilment(*, created_at: str, number: str, company: str = "Yamato (JA)", display_status: str = "IN_TRANSIT",
                       updated_at: str | None = None, delivered_at: str | None = None,
                       in_transit_at: str | None = None) -> dict[str, Any]:
    return {"createdAt": created_at, "updatedAt": updated_at or created_at, "deliveredAt": delivered_at,
            "inTransitAt": in_transit_at, "displayStatus": display_status, "status": "SUCCESS",
            "trackingInfo": [{"company": company, "number": number,
                              "url": f"https://toi.kuronekoyamato.co.jp/cgi-bin/tneko?number={number}"}]}


def shopify_product(product_id: int, *, title: str, sku: str, description_html: str, updated_at: str) -> dict[str, Any]:
    return {"id": f"gid://shopify/Product/{product_id}", "legacyResourceId": str(product_id), "title": title,
            "handle": f"item-{product_id}", "descriptionHtml": description_html,
            "onlineStoreUrl": f"https://komorebido.example.jp/products/item-{product_id}", "updatedAt": updated_at,
            "variants": {"edges": [{"node": {"sku": sku}}]}}


_SINCE = re.compile(r"updated_at:>='([^']+)'")


class FakeShopify(FakeServer):
    """POST /admin/api/<version>/graphql.json with X-Shopify-Access-Token."""

    def __init__(self, token: str = "shpat_test_token") -> None:
        super().__init__()
        self.token = token
        self.orders: dict[str, dict[str, Any]] = {}  # by gid
        self.products: dict[str, dict[str, Any]] = {}
        self.throttle_next = 0  # GraphQL THROTTLED answers (HTTP 200) before the real one
        self.discounts: dict[str, dict[str, Any]] = {}  # DiscountCodeNode by code (upper case)
        self.discount_creates = 0  # discountCodeBasicCreate calls that created one
        self.customers: dict[str, str] = {}  # e-mail -> Customer gid
        self.webhooks: list[dict[str, Any]] = []  # WebhookSubscription nodes
        self.slow_creates = 0.0  # the next discountCodeBasicCreate answers this late, after creating (a lost answer)
        self.refuse_discounts: list[dict[str, Any]] = []  # userErrors answered to discountCodeBasicCreate
        self.refuse_webhooks: list[dict[str, Any]] = []  # userErrors answered to webhookSubscriptionCreate

    def put_order(self, node: dict[str, Any]) -> None:
        with self.lock:
            self.orders[node["id"]] = node

    def put_product(self, node: dict[str, Any]) -> None:
        with self.lock:
            self.products[node["id"]] = node

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        if method != "POST" or not re.fullmatch(r"/admin/api/[\w-]+/graphql\.json", urlsplit(path).path):
            return 404, {"errors": "Not Found"}
        if headers.get("X-Shopify-Access-Token") != self.token:
            return 401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
        request = json.loads(body)
        query, variables = request["query"], request.get("variables") or {}
        with self.lock:
            answer = self._answer_query(query, variables)
            slow = 0.0
            if "discountCodeBasicCreate" in (answer[1].get("data") or {}):
                slow, self.slow_creates = self.slow_creates, 0.0
        if slow:
            time.sleep(slow)
        return answer

    def _answer_query(self, query: str, variables: dict[str, Any]) -> tuple[int, Any]:
        if self.throttle_next:
            self.throttle_next -= 1
            # As Shopify answers: the error, and the bucket's state (the query wants 110 points,
            # 100 are there, 50 come back a second).
            return 200, {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                         "extensions": {"cost": {"requestedQueryCost": 110, "actualQueryCost": None, "throttleStatus": {
                             "maximumAvailable": 1000.0, "currentlyAvailable": 100, "restoreRate": 50.0}}}}
        if "discountCodeBasicCreate(" in query:
            return 200, {"data": {"discountCodeBasicCreate": self._create_discount(variables["basicCodeDiscount"])}}
        if "codeDiscountNodeByCode(" in query:
            return 200, {"data": {"codeDiscountNodeByCode": self.discounts.get(str(variables["code"]).upper())}}
        if "webhookSubscriptionCreate(" in query:
            return 200, {"data": {"webhookSubscriptionCreate": self._create_webhook(variables)}}
        if re.search(r"\bwebhookSubscriptions\(", query):
            return 200, {"data": {"webhookSubscriptions": self._connection_of(list(self.webhooks), variables)}}
        if re.search(r"\bcustomers\(", query):
            email = re.sub(r"^email:", "", str(variables.get("query") or "")).strip("'\" ").lower()
            gid = self.customers.get(email)
            return 200, {"data": {"customers": {"edges": [{"cursor": "MQ==", "node": {"id": gid}}] if gid else [],
                                                "pageInfo": {"hasNextPage": False, "endCursor": None}}}}
        if re.search(r"\borders\(", query):
            connection = self._connection(list(self.orders.values()), variables)
            for edge in connection["edges"]:
                edge["node"] = self._shaped_order(edge["node"], query, variables)
            return 200, {"data": {"orders": connection}}
        if re.search(r"\bproducts\(", query):
            return 200, {"data": {"products": self._connection(list(self.products.values()), variables)}}
        if re.search(r"\border\(id:", query):
            order = self.orders.get(variables["id"])
            return 200, {"data": {"order": order and self._shaped_order(order, query, variables)}}
        if re.search(r"\bproduct\(id:", query):
            return 200, {"data": {"product": self.products.get(variables["id"])}}
        return 200, {"errors": [{"message": "unknown query"}]}

    @staticmethod
    def _shaped_order(node: dict[str, Any], query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """The order as the query asked for it: `lineItems(first: N, after: $var)` is a connection
        paged by cursors (the stored node holds every line item), `fulfillments(first: N)` a list
        cut at N, as Shopify does."""
        node = dict(node)
        items = re.search(r"lineItems\(first:\s*(\d+)(?:,\s*after:\s*\$(\w+))?", query)
        edges = [edge["node"] for edge in (node.get("lineItems") or {}).get("edges") or []]
        if items:
            after = variables.get(items.group(2)) if items.group(2) else None
            node["lineItems"] = FakeShopify._connection_of(edges, {"first": items.group(1), "after": after})
        fulfilments = re.search(r"fulfillments\(first:\s*(\d+)", query)
        if fulfilments and "fulfillments" in node:
            node["fulfillments"] = list(node["fulfillments"])[:int(fulfilments.group(1))]
        return node

    def _create_discount(self, given: dict[str, Any]) -> dict[str, Any]:
        """discountCodeBasicCreate as Shopify answers it: the node, or userErrors (a code already
        taken, an end before the start, no value)."""
        code = str(given.get("code") or "")
        errors = list(self.refuse_discounts)
        if not code:
            errors.append({"field": ["basicCodeDiscount", "code"], "code": "BLANK", "message": "Code can't be blank"})
        elif code.upper() in self.discounts:
            errors.append({"field": ["basicCodeDiscount", "code"], "code": "TAKEN",
                           "message": "Code must be unique. Please try a different code."})
        if given.get("endsAt") and given.get("startsAt") and given["endsAt"] <= given["startsAt"]:
            errors.append({"field": ["basicCodeDiscount", "endsAt"], "code": "INVALID",
                           "message": "Ends at needs to be after starts_at"})
        value = ((given.get("customerGets") or {}).get("value")) or {}
        if not value.get("percentage") and not (value.get("discountAmount") or {}).get("amount"):
            errors.append({"field": ["basicCodeDiscount", "customerGets", "value"], "code": "BLANK",
                           "message": "Value can't be blank"})
        if errors:
            return {"codeDiscountNode": None, "userErrors": errors}
        self.discount_creates += 1
        node = {"id": f"gid://shopify/DiscountCodeNode/{1057371900 + self.discount_creates}",
                "codeDiscount": {"__typename": "DiscountCodeBasic", "title": given.get("title"), "input": given,
                                 "codes": {"nodes": [{"code": code}]}}}
        self.discounts[code.upper()] = node
        return {"codeDiscountNode": node, "userErrors": []}

    def _create_webhook(self, variables: dict[str, Any]) -> dict[str, Any]:
        topic = str(variables.get("topic") or "")
        url = str((variables.get("webhookSubscription") or {}).get("callbackUrl") or "")
        if self.refuse_webhooks:
            return {"webhookSubscription": None, "userErrors": list(self.refuse_webhooks)}
        if not url.startswith("https://"):
            return {"webhookSubscription": None, "userErrors": [
                {"field": ["webhookSubscription", "callbackUrl"], "message": "Address protocol http:// is not supported"}]}
        if any(hook["topic"] == topic and hook["endpoint"]["callbackUrl"] == url for hook in self.webhooks):
            return {"webhookSubscription": None, "userErrors": [
                {"field": ["webhookSubscription", "callbackUrl"], "message": "Address for this topic has already been taken"}]}
        node = {"id": f"gid://shopify/WebhookSubscription/{7300000 + len(self.webhooks) + 1}", "topic": topic,
                "format": "JSON", "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": url}}
        self.webhooks.append(node)
        return {"webhookSubscription": node, "userErrors": []}

    @staticmethod
    def _connection_of(nodes: list[Any], variables: dict[str, Any]) -> dict[str, Any]:
        start = int(base64.b64decode(variables["after"]).decode()) if variables.get("after") else 0
        page = nodes[start:start + int(variables.get("first") or 50)]
        cursors = [base64.b64encode(str(start + index + 1).encode()).decode() for index in range(len(page))]
        return {"edges": [{"cursor": cursor, "node": node} for cursor, node in zip(cursors, page, strict=True)],
                "pageInfo": {"hasNextPage": start + len(page) < len(nodes), "hasPreviousPage": start > 0,
                             "startCursor": cursors[0] if cursors else None, "endCursor": cursors[-1] if cursors else None}}

    @staticmethod
    def _connection(nodes: list[dict[str, Any]], variables: dict[str, Any]) -> dict[str, Any]:
        since = _SINCE.search(variables.get("query") or "")
        if since:
            nodes = [node for node in nodes if node["updatedAt"] >= since.group(1)]
        nodes.sort(key=lambda node: (node["updatedAt"], node["id"]))
        start = int(base64.b64decode(variables["after"]).decode()) if variables.get("after") else 0
        page = nodes[start:start + int(variables["first"])]
        cursors = [base64.b64encode(str(start + index + 1).encode()).decode() for index in range(len(page))]
        return {"edges": [{"cursor": cursor, "node": node} for cursor, node in zip(cursors, page, strict=True)],
                "pageInfo": {"hasNextPage": start + len(page) < len(nodes), "hasPreviousPage": start > 0,
                             "startCursor": cursors[0] if cursors else None, "endCursor": cursors[-1] if cursors else None}}


# --- BASE --------------------------------------------------------------------------------------


def base_order(key: str, *, ordered: int, modified: int, last_name: str, first_name: str, email: str, tel: str,
               items: list[tuple[int, str, str, int, int]] | None = None, dispatch_status: str = "ordered",
               dispatched: int | None = None, tracking: str = "", cancelled: int | None = None) -> dict[str, Any]:
    """GET /1/orders/detail's `order` (items: item_id, title, variation, price, amount)."""
    items = items or [(1201, "今治タオル バスタオル 2枚組", "生成り", 3300, 1)]
    order_items = [{"order_item_id": 9000 + index, "item_id": item_id, "variation_id": 100 + index, "title": title,
                    "variation": variation, "item_identifier": f"IMABARI-{item_id}", "variation_identifier": "",
                    "price": price, "amount": amount, "total": price * amount, "status": dispatch_status,
                    "shipping_method": "ヤマト運輸 宅急便" if tracking else "", "tracking_number": tracking or None}
                   for index, (item_id, title, variation, price, amount) in enumerate(items)]
    return {"unique_key": key, "ordered": ordered, "cancelled": cancelled, "dispatched": dispatched, "payment": "credit_card",
            "first_name": first_name, "last_name": last_name, "zip_code": "1500001", "prefecture": "東京都",
            "address": "渋谷区神宮前1-2-3", "tel": tel, "mail_address": email, "remark": "",
            "total": sum(price * amount for _id, _title, _variation, price, amount in items) + 800, "delivery_fee": 800, "terminated": False,
            "dispatch_status": dispatch_status, "modified": modified, "order_items": order_items}


def base_item(item_id: int, *, title: str, detail: str, modified: int, identifier: str = "") -> dict[str, Any]:
    return {"item_id": item_id, "title": title, "detail": detail, "price": 3300, "stock": 12, "visible": 1,
            "identifier": identifier, "list_order": 1, "modified": modified, "variations": []}


class FakeBase(FakeServer):
    """api.thebase.in: /1/oauth/token, /1/orders, /1/orders/detail/<key>, /1/items (Bearer token)."""

    CODE = "base-auth-code"

    def __init__(self) -> None:
        super().__init__()
        self.orders: dict[str, dict[str, Any]] = {}
        self.items: list[dict[str, Any]] = []
        self.access_token = ""
        self.refresh_token = ""
        self.issued = 0
        self.expires_in = 3600
        self.token_requests: list[dict[str, list[str]]] = []

    def put_order(self, order: dict[str, Any]) -> None:
        with self.lock:
            self.orders[order["unique_key"]] = order

    def _issue(self) -> dict[str, Any]:
        self.issued += 1
        self.access_token, self.refresh_token = f"base-access-{self.issued}", f"base-refresh-{self.issued}"
        return {"access_token": self.access_token, "token_type": "bearer", "expires_in": self.expires_in,
                "refresh_token": self.refresh_token}

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        parts = urlsplit(path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        with self.lock:
            if parts.path == "/1/oauth/token" and method == "POST":
                form = parse_qs(body.decode())
                self.token_requests.append(form)
                grant = form.get("grant_type", [""])[0]
                if form.get("client_id", [""])[0] != "base-client" or form.get("client_secret", [""])[0] != "base-secret":
                    return 400, {"error": "invalid_client", "error_description": "client_idかclient_secretが不正です。"}
                if grant == "authorization_code" and form.get("code", [""])[0] == self.CODE:
                    return 200, self._issue()
                if grant == "refresh_token" and form.get("refresh_token", [""])[0] == self.refresh_token:
                    return 200, self._issue()
                return 400, {"error": "invalid_grant", "error_description": "認可コードが不正です。"}
            if headers.get("Authorization") != f"Bearer {self.access_token}" or not self.access_token:
                return 401, {"error": "invalid_token", "error_description": "アクセストークンが無効です。"}
            if parts.path == "/1/orders":
                rows = sorted(self.orders.values(), key=lambda order: -order["ordered"])
                if query.get("start_ordered"):
                    rows = [row for row in rows if _base_time(row["ordered"]) >= query["start_ordered"]]
                offset, limit = int(query.get("offset", 0)), int(query.get("limit", 20))
                listed = [{key: row[key] for key in ("unique_key", "ordered", "cancelled", "dispatched", "payment",
                                                     "first_name", "last_name", "total", "terminated",
                                                     "dispatch_status", "modified")}
                          for row in rows[offset:offset + limit]]
                return 200, {"orders": listed}
            if parts.path.startswith("/1/orders/detail/"):
                order = self.orders.get(parts.path.rsplit("/", 1)[1])
                return (200, {"order": order}) if order else (404, {"error": "not_found", "error_description": "注文が見つかりません。"})
            if parts.path == "/1/items":
                offset, limit = int(query.get("offset", 0)), int(query.get("limit", 20))
                return 200, {"items": self.items[offset:offset + limit]}
        return 404, {"error": "not_found"}


def _base_time(unix: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(unix, dt.timezone(dt.timedelta(hours=9))).strftime("%Y-%m-%d %H:%M:%S")
