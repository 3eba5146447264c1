"""A coupon becomes a Shopify discount code in the desk users run: `madoguchi serve` (with its
embedded worker) configured by environment variables to talk to a local Shopify. The coupon
is issued by another process (`madoguchi shell`, as a page would), while Shopify is down; the
serve process's worker keeps it 作成待ち, and its minute sweep creates the code once Shopify is
back: one code, the coupon 作成済み, no work left over."""

from __future__ import annotations

import json
import time
from pathlib import Path

from madoguchi.chat.tests.servers import own_database
from madoguchi.testing.desk_process import ServedDesk, free_port
from madoguchi.testing.fake_platforms import FakeShopify

ISSUE = """
import datetime as dt
from django.utils import timezone
from madoguchi.accounts.models import Role, User
from madoguchi.cases import services
from madoguchi.cases.models import Category, Channel
from madoguchi.coupons.services import do_issue_coupon
from madoguchi.customers.models import Customer, Identity, IdentityKind
tencho = User.objects.create(username="tencho", role=Role.ADMIN, display_name="店長 森")
customer = Customer.objects.create(name="鈴木 美咲")
Identity.objects.create(customer=customer, kind=IdentityKind.EMAIL, value="misaki.suzuki@example.co.jp")
case = services.do_create_case(actor=tencho, customer=customer, subject="マグカップの破損", channel=Channel.EMAIL,
    category=Category.objects.first(), complaint="届いたマグカップの取っ手が割れていました。")
coupon = do_issue_coupon(case, actor=tencho, kind="yen", value=1500, code="SORRY-SERVE-1500", reason="破損のお詫び",
    expires_on=timezone.localdate() + dt.timedelta(days=60))
print(coupon.pk)
"""
STATE = """
import json
from madoguchi.coupons.models import Coupon
from madoguchi.jobs.models import PendingWork
coupon = Coupon.objects.get(code="SORRY-SERVE-1500")
print(json.dumps({"state": coupon.platform_state, "id": coupon.platform_id, "note": coupon.platform_error,
                  "left": PendingWork.objects.filter(key="shopify.discount").count()}))
"""


def _wait(desk: ServedDesk, done, seconds: float) -> dict:
    state: dict = {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = json.loads(desk.shell(STATE))
        if done(state):
            return state
        time.sleep(2)
    return state


def test_the_served_desks_worker_creates_the_discount_code_after_an_outage(tmp_path: Path) -> None:
    shopify = FakeShopify().start()
    shopify.customers["misaki.suzuki@example.co.jp"] = "gid://shopify/Customer/7301944001"
    try:
        with own_database("shopify_discount_serve") as database:
            desk = ServedDesk.create(tmp_path / "data", database, free_port(), MADOGUCHI_SHOPIFY_SHOP_URL=shopify.url,
                                     MADOGUCHI_SHOPIFY_ACCESS_TOKEN=shopify.token, MADOGUCHI_SHOPIFY_WEBHOOK_SECRET="whsec-serve",
                                     MADOGUCHI_SHOP_SYNC_MINUTES="59", MADOGUCHI_SHOP_SYNC_ATTEMPTS="2",
                                     MADOGUCHI_SHOP_SYNC_BACKOFF_SECONDS="0.1", MADOGUCHI_WORK_GRACE_SECONDS="5")
            try:
                desk.start()
                deadline = time.monotonic() + 60
                while len(shopify.requests) < 2 and time.monotonic() < deadline:  # the sync at start is done
                    time.sleep(0.5)
                shopify.fail_with(503, 503)  # Shopify is down for the first try
                desk.shell(ISSUE)
                state = _wait(desk, lambda s: bool(s["note"]) or s["state"] == "created", 60)
                assert state["state"] == "pending" and "Shopify に接続できないため" in state["note"], state
                assert state["left"] == 1  # kept, backing off
                state = _wait(desk, lambda s: s["state"] == "created", 180)  # the minute sweep, after the backoff
                assert state["state"] == "created" and state["id"].startswith("gid://shopify/DiscountCodeNode/"), state
                assert state["left"] == 0 and state["note"] == ""
                assert shopify.discount_creates == 1 and list(shopify.discounts) == ["SORRY-SERVE-1500"]
                sent = shopify.discounts["SORRY-SERVE-1500"]["codeDiscount"]["input"]
                assert sent["customerSelection"] == {"customers": {"add": ["gid://shopify/Customer/7301944001"]}}
            finally:
                desk.stop()
    finally:
        shopify.stop()
