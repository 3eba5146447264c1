"""Coupons issued on a case become Shopify discount codes (issue 18 item 4), created by the
worker through deferred work against a local Shopify answering discountCodeBasicCreate as
documented: userErrors, THROTTLED, an outage then recovery, a lost answer, and never two codes
for one coupon."""

from __future__ import annotations

import datetime as dt

import httpx2
import pytest
import time_machine
from django.utils import timezone

from madoguchi.accounts.models import AuthorityLimit, Role
from madoguchi.cases import services as case_services
from madoguchi.coupons import services as coupons
from madoguchi.coupons.models import Coupon, CouponKind, PlatformState
from madoguchi.customers.models import Identity, IdentityKind
from madoguchi.jobs import work
from madoguchi.jobs.models import PendingWork
from madoguchi.shopify import client as shopify_client
from madoguchi.shopify import discounts
from madoguchi.shopify.models import Discount
from madoguchi.testing.factories import CaseFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db
EMAIL = "misaki.suzuki@example.co.jp"
CUSTOMER_GID = "gid://shopify/Customer/7301944001"


@pytest.fixture
def desk():
    lead = UserFactory(role=Role.LEAD, display_name="佐藤 花子")
    team = TeamFactory(lead=lead)
    lead.team = team
    lead.save()
    agent = UserFactory(team=team, display_name="田中 健太")
    AuthorityLimit.objects.create(role=Role.AGENT, max_compensation_yen=3000)
    AuthorityLimit.objects.create(role=Role.LEAD, max_compensation_yen=30000)
    case = CaseFactory(team=team, assignee=agent, subject="マグカップが割れて届いた")
    Identity.objects.create(customer=case.customer, kind=IdentityKind.EMAIL, value=EMAIL)
    return {"lead": lead, "agent": agent, "case": case}


def _issue(desk, capture, **terms) -> Coupon:
    values = {"kind": CouponKind.YEN, "value": 1000, "code": "SORRY-MUG-1000", "reason": "マグカップ破損のお詫び",
              "expires_on": timezone.localdate() + dt.timedelta(days=30)} | terms
    with capture(execute=False):
        return coupons.do_issue_coupon(desk["case"], actor=desk["agent"], **values)


def _run_work() -> None:
    """What the worker does after the commit: the rows of the discount work."""
    work.complete(list(PendingWork.objects.filter(key=discounts.DISCOUNT_WORK).values_list("pk", flat=True)))


def _state(coupon: Coupon) -> tuple[str, str, str]:
    coupon.refresh_from_db()
    return coupon.platform_state, coupon.platform_id, coupon.platform_error


def test_a_granted_coupon_waits_as_deferred_work_and_the_worker_creates_its_code_once(
        shopify, desk, django_capture_on_commit_callbacks) -> None:
    shopify.customers[EMAIL] = CUSTOMER_GID
    coupon = _issue(desk, django_capture_on_commit_callbacks)
    # Inside the request only the work is written: Shopify has not been called yet.
    assert shopify.requests == [] and _state(coupon)[0] == PlatformState.PENDING
    assert PendingWork.objects.filter(key=discounts.DISCOUNT_WORK).count() == 1
    _run_work()
    state, discount_id, error = _state(coupon)
    assert state == PlatformState.CREATED and error == "" and discount_id.startswith("gid://shopify/DiscountCodeNode/")
    assert not PendingWork.objects.filter(key=discounts.DISCOUNT_WORK).exists()
    sent = shopify.discounts["SORRY-MUG-1000"]["codeDiscount"]["input"]
    assert sent["code"] == "SORRY-MUG-1000" and sent["usageLimit"] == 1 and sent["appliesOncePerCustomer"] is True
    assert sent["customerGets"] == {"value": {"discountAmount": {"amount": "1000", "appliesOnEachItem": False}},
                                    "items": {"all": True}}
    assert sent["customerSelection"] == {"customers": {"add": [CUSTOMER_GID]}}
    # Valid to the end of the expiry day in Japan: midnight JST of the next day is 15:00 UTC.
    assert sent["endsAt"] == f"{coupon.expires_on.isoformat()}T15:00:00+00:00"
    assert sent["startsAt"] < sent["endsAt"]
    assert f"#{desk['case'].pk}" in sent["title"]
    assert Discount.objects.get(coupon=coupon).discount_id == discount_id
    # The same work again (a sweep after a lost delete, a redelivered task): nothing new.
    work.defer(discounts.DISCOUNT_WORK, [coupon.pk])
    requests = len(shopify.requests)
    _run_work()
    assert shopify.discount_creates == 1 and len(shopify.requests) == requests
    assert _state(coupon)[:2] == (PlatformState.CREATED, discount_id)


def test_a_percentage_coupon_for_a_customer_shopify_does_not_know_is_open_to_all_once(
        shopify, desk, django_capture_on_commit_callbacks) -> None:
    coupon = _issue(desk, django_capture_on_commit_callbacks, kind=CouponKind.PERCENT, value=15, ledger_yen=900,
                    code="")
    _run_work()
    assert _state(coupon)[0] == PlatformState.CREATED
    sent = shopify.discounts[coupon.code]["codeDiscount"]["input"]
    assert sent["customerGets"]["value"] == {"percentage": 0.15}
    assert sent["customerSelection"] == {"all": True} and sent["usageLimit"] == 1


def test_a_coupon_waiting_for_the_lead_is_created_only_when_approved(shopify, desk, django_capture_on_commit_callbacks) -> None:
    coupon = _issue(desk, django_capture_on_commit_callbacks, value=5000)
    assert _state(coupon)[0] == PlatformState.NONE and not PendingWork.objects.filter(key=discounts.DISCOUNT_WORK).exists()
    with django_capture_on_commit_callbacks(execute=False):
        case_services.do_decide_compensation(coupon.compensation, actor=desk["lead"], approve=True)
    assert _state(coupon)[0] == PlatformState.PENDING
    _run_work()
    assert _state(coupon)[0] == PlatformState.CREATED and shopify.discount_creates == 1


def test_shopify_refusing_the_code_fails_with_the_reason_in_japanese_and_an_agent_retries(
        shopify, desk, client, django_capture_on_commit_callbacks) -> None:
    shopify.refuse_discounts = [{"field": ["basicCodeDiscount", "customerGets", "value"], "code": "INVALID",
                                 "message": "Value must be less than the order subtotal"}]
    coupon = _issue(desk, django_capture_on_commit_callbacks)
    _run_work()
    state, _id, error = _state(coupon)
    assert state == PlatformState.FAILED
    assert error == "Shopify が受け付けませんでした（customerGets.value: Value must be less than the order subtotal）。"
    assert not PendingWork.objects.filter(key=discounts.DISCOUNT_WORK).exists()  # a refusal is not retried by itself
    client.force_login(desk["agent"])
    page = client.get(f"/cases/{desk['case'].pk}/").content.decode()
    assert "Shopify: 失敗" in page and "Value must be less than the order subtotal" in page
    assert f'action="/coupons/{coupon.pk}/platform-retry/"' in page
    shopify.refuse_discounts = []
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(f"/coupons/{coupon.pk}/platform-retry/")
    assert response.status_code == 302 and response["Location"] == f"/cases/{desk['case'].pk}/#coupons"
    assert _state(coupon)[0] == PlatformState.PENDING
    assert "Shopify: 作成待ち" in client.get(f"/cases/{desk['case'].pk}/").content.decode()
    _run_work()
    assert _state(coupon)[0] == PlatformState.CREATED and shopify.discount_creates == 1
    page = client.get(f"/cases/{desk['case'].pk}/").content.decode()
    assert "Shopify: 作成済み" in page and "platform-retry" not in page
    # Once created, a retry is refused with a message, and nothing is sent.
    response = client.post(f"/coupons/{coupon.pk}/platform-retry/", follow=True)
    assert "失敗していないため、再試行できません" in response.content.decode()
    assert shopify.discount_creates == 1


def test_a_code_another_discount_already_has_is_not_taken_over(shopify, desk, django_capture_on_commit_callbacks) -> None:
    shopify.discounts["SORRY-MUG-1000"] = {"id": "gid://shopify/DiscountCodeNode/42", "codeDiscount": {}}
    coupon = _issue(desk, django_capture_on_commit_callbacks)
    _run_work()
    state, discount_id, error = _state(coupon)
    assert (state, discount_id) == (PlatformState.FAILED, "")
    assert "SORRY-MUG-1000 は Shopify の別の割引ですでに使われています" in error
    assert shopify.discount_creates == 0


def test_throttled_answers_are_waited_out_as_long_as_shopifys_bucket_says(
        shopify, desk, monkeypatch, django_capture_on_commit_callbacks) -> None:
    waits: list[float] = []
    monkeypatch.setattr(shopify_client.time, "sleep", waits.append)
    shopify.throttle_next = 2
    coupon = _issue(desk, django_capture_on_commit_callbacks)
    _run_work()
    assert _state(coupon)[0] == PlatformState.CREATED and shopify.discount_creates == 1
    assert waits == [pytest.approx(0.2), pytest.approx(0.2)]  # (110 - 100 points) / 50 a second


def test_an_outage_leaves_the_work_to_be_retried_with_backoff_and_creates_one_code_when_shopify_is_back(
        shopify, desk, django_capture_on_commit_callbacks) -> None:
    coupon = _issue(desk, django_capture_on_commit_callbacks)
    shopify.fail_with(503, 502, 429, 503, retry_after="0")  # every try of the first run (4 attempts)
    with pytest.raises(Exception, match="Shopify に 4 回試しましたが応答がありません"):
        _run_work()
    state, _id, note = _state(coupon)
    assert state == PlatformState.PENDING and note.startswith("Shopify に接続できないため、自動で再試行します")
    row = PendingWork.objects.get(key=discounts.DISCOUNT_WORK)
    assert row.attempts == 1 and row.claimed_until > timezone.now()  # backing off
    assert work.complete([row.pk]) == 0  # not at once
    # Still throttled at the next try: kept again, and backed off longer.
    shopify.throttle_next = 10
    with time_machine.travel(timezone.now() + work.backoff(1) + dt.timedelta(seconds=1)):
        with pytest.raises(Exception, match="API 利用制限"):
            work.complete([row.pk])
    row.refresh_from_db()
    assert row.attempts == 2
    shopify.throttle_next = 0
    with time_machine.travel(timezone.now() + work.backoff(1) + work.backoff(2) + work.grace() + dt.timedelta(seconds=5)):
        assert work.sweep() >= 1  # with the case's own work (search, SLA clock)
    assert _state(coupon)[0] == PlatformState.CREATED and shopify.discount_creates == 1
    assert not PendingWork.objects.filter(key=discounts.DISCOUNT_WORK).exists()


def test_an_answer_lost_after_shopify_created_the_code_does_not_make_a_second_one(
        shopify, desk, monkeypatch, django_capture_on_commit_callbacks) -> None:
    monkeypatch.setattr(shopify_client, "TIMEOUT", httpx2.Timeout(0.5, connect=2.0))
    coupon = _issue(desk, django_capture_on_commit_callbacks)
    shopify.slow_creates = 2.0  # Shopify creates it, its answer comes too late; the create is sent again
    _run_work()
    state, discount_id, error = _state(coupon)
    assert (state, error) == (PlatformState.CREATED, "")
    assert shopify.discount_creates == 1 and discount_id == shopify.discounts["SORRY-MUG-1000"]["id"]


def test_a_worker_killed_after_sending_the_create_is_followed_by_a_lookup_not_a_second_create(
        shopify, desk, django_capture_on_commit_callbacks) -> None:
    coupon = _issue(desk, django_capture_on_commit_callbacks)
    # What a worker killed mid-call leaves: the create marked sent, Shopify holding the code.
    Discount.objects.create(coupon=coupon, create_sent_at=timezone.now(), attempts=1)
    shopify.discounts["SORRY-MUG-1000"] = {"id": "gid://shopify/DiscountCodeNode/1057371999", "codeDiscount": {}}
    _run_work()
    assert _state(coupon)[:2] == (PlatformState.CREATED, "gid://shopify/DiscountCodeNode/1057371999")
    assert shopify.discount_creates == 0


def test_without_a_shopify_connection_no_work_is_left(settings, desk, django_capture_on_commit_callbacks) -> None:
    settings.MADOGUCHI_SHOPIFY_SHOP_URL = ""
    coupon = _issue(desk, django_capture_on_commit_callbacks)
    assert _state(coupon)[0] == PlatformState.NONE and not PendingWork.objects.filter(key=discounts.DISCOUNT_WORK).exists()


def test_the_retry_is_for_staff_signed_in_and_posted(shopify, desk, client, django_capture_on_commit_callbacks) -> None:
    coupon = _issue(desk, django_capture_on_commit_callbacks)
    assert client.post(f"/coupons/{coupon.pk}/platform-retry/").status_code == 302  # to the login page
    assert _state(coupon)[0] == PlatformState.PENDING
    client.force_login(desk["agent"])
    assert client.get(f"/coupons/{coupon.pk}/platform-retry/").status_code == 405
    assert client.post("/coupons/999999/platform-retry/").status_code == 404
    response = client.post(f"/coupons/{coupon.pk}/platform-retry/", follow=True)  # pending, not failed
    assert "失敗していないため、再試行できません" in response.content.decode()


def test_the_retry_button_on_the_case_page_posts_with_its_csrf_token(shopify, desk, django_capture_on_commit_callbacks) -> None:
    import re

    from django.test import Client

    shopify.refuse_discounts = [{"field": ["basicCodeDiscount", "code"], "code": "INVALID", "message": "Code is invalid"}]
    coupon = _issue(desk, django_capture_on_commit_callbacks)
    _run_work()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(desk["agent"])
    page = browser.get(f"/cases/{desk['case'].pk}/").content.decode()
    form = re.search(rf'<form method="post" action="/coupons/{coupon.pk}/platform-retry/"[^>]*>(.*?)</form>', page, re.S)
    assert form is not None
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(1))
    assert token is not None
    assert browser.post(f"/coupons/{coupon.pk}/platform-retry/").status_code == 403  # without it
    with django_capture_on_commit_callbacks(execute=False):
        response = browser.post(f"/coupons/{coupon.pk}/platform-retry/", {"csrfmiddlewaretoken": token.group(1)})
    assert response.status_code == 302 and _state(coupon)[0] == PlatformState.PENDING
