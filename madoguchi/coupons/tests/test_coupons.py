"""Coupons issued from a case as compensation (issue 18 item 4): recorded in the compensation
ledger, under the agent's authority limit, announced by `coupon_issued` once granted."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from madoguchi.accounts.models import AuthorityLimit, Role
from madoguchi.cases import services as case_services
from madoguchi.cases.models import Compensation, CompensationKind, CompensationState
from madoguchi.coupons import services
from madoguchi.coupons.models import Coupon, CouponKind, PlatformState
from madoguchi.coupons.signals import coupon_issued
from madoguchi.testing.factories import CaseFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk():
    lead = UserFactory(role=Role.LEAD, display_name="佐藤 花子")
    team = TeamFactory(lead=lead)
    lead.team = team
    lead.save()
    agent = UserFactory(team=team, display_name="田中 健太")
    AuthorityLimit.objects.create(role=Role.AGENT, max_compensation_yen=3000)
    AuthorityLimit.objects.create(role=Role.LEAD, max_compensation_yen=30000)
    case = CaseFactory(team=team, assignee=agent)
    return {"lead": lead, "agent": agent, "case": case}


@pytest.fixture
def issued():
    received = []

    def receiver(sender, coupon, actor, **kwargs):
        received.append((coupon.code, coupon.compensation.state, actor))

    coupon_issued.connect(receiver, dispatch_uid="test-coupon-issued")
    yield received
    coupon_issued.disconnect(dispatch_uid="test-coupon-issued")


def in_days(days: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


def test_a_coupon_within_the_limit_is_granted_and_announced(desk, issued):
    coupon = services.do_issue_coupon(desk["case"], actor=desk["agent"], kind=CouponKind.YEN, value=1000,
                                      expires_on=in_days(30), reason="配送遅延のお詫び", code="owabi-2026")
    assert coupon.code == "OWABI-2026"
    ledger = Compensation.objects.get()
    assert (ledger.kind, ledger.amount_yen, ledger.state, ledger.case) == (
        CompensationKind.COUPON, 1000, CompensationState.GRANTED, desk["case"])
    assert issued == [("OWABI-2026", CompensationState.GRANTED, desk["agent"])]


def test_a_coupon_over_the_limit_waits_for_the_lead_and_is_announced_when_approved(desk, issued):
    coupon = services.do_issue_coupon(desk["case"], actor=desk["agent"], kind=CouponKind.YEN, value=5000,
                                      expires_on=in_days(30), reason="破損のお詫び")
    assert coupon.code.startswith("MDG-") and len(coupon.code) == 12
    assert coupon.compensation.state == CompensationState.PENDING and "上限" in coupon.compensation.hold_reason
    assert issued == []
    case_services.do_decide_compensation(coupon.compensation, actor=desk["lead"], approve=True)
    assert issued == [(coupon.code, CompensationState.GRANTED, desk["lead"])]


def test_a_refused_coupon_is_never_announced(desk, issued):
    coupon = services.do_issue_coupon(desk["case"], actor=desk["agent"], kind=CouponKind.YEN, value=5000,
                                      expires_on=in_days(30), reason="破損のお詫び")
    case_services.do_decide_compensation(coupon.compensation, actor=desk["lead"], approve=False)
    assert issued == []
    assert services.coupons_of_case(desk["case"].pk)[0].state_label == "却下"


def test_coupons_count_with_other_compensation_against_the_limit(desk):
    """The same rule as any compensation: a ¥2,000 refund and a ¥2,000 coupon make ¥4,000."""
    case_services.do_request_compensation(desk["case"], actor=desk["agent"], kind="refund", amount_yen=2000, reason="送料")
    coupon = services.do_issue_coupon(desk["case"], actor=desk["agent"], kind=CouponKind.YEN, value=2000,
                                      expires_on=in_days(30), reason="お詫び")
    assert coupon.compensation.state == CompensationState.PENDING


def test_a_rate_coupon_is_recorded_at_its_expected_worth(desk):
    coupon = services.do_issue_coupon(desk["case"], actor=desk["agent"], kind=CouponKind.PERCENT, value=10,
                                      expires_on=in_days(30), reason="次回のお買い物で", ledger_yen=800)
    assert coupon.discount_label == "10%" and coupon.compensation.amount_yen == 800
    assert coupon.compensation.state == CompensationState.GRANTED


BASE_FORM = {"cpn-kind": "yen", "cpn-value": "1000", "cpn-expires_on": "", "cpn-code": "", "cpn-reason": "お詫び"}


@pytest.mark.parametrize(("changes", "message"), [
    ({"cpn-value": "-500"}, "割引は1以上の数で入力してください。"),
    ({"cpn-kind": "percent", "cpn-value": "120", "cpn-ledger_yen": "500"}, "割引率は100%以下で入力してください。"),
    ({"cpn-expires_on": "past"}, "有効期限が過去の日付です。"),
    ({"cpn-kind": "percent", "cpn-value": "10"}, "見込みの割引額（円）を1円以上で入力してください。"),
    ({"cpn-code": "クーポン!"}, "クーポンコードは半角の英数字"),
    ({"cpn-value": "千円"}, "半角の数字で入力してください。"),
    ({"cpn-expires_on": "12月31日"}, "日付を 2026-12-31 の形で入力してください。"),
    ({"cpn-reason": ""}, "補償の理由を入力してください。"),
])
def test_bad_coupon_input_is_answered_in_japanese_and_records_nothing(client, desk, changes, message):
    client.force_login(desk["agent"])
    data = {**BASE_FORM, "cpn-expires_on": in_days(30).isoformat(), **changes}
    if data["cpn-expires_on"] == "past":
        data["cpn-expires_on"] = in_days(-1).isoformat()
    response = client.post(f"/coupons/case/{desk['case'].pk}/issue/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Compensation.objects.exists() and not Coupon.objects.exists()
    htmx = client.post(f"/coupons/case/{desk['case'].pk}/issue/", data, headers={"HX-Request": "true"})
    assert htmx.status_code == 200 and message in htmx.content.decode()  # swapped in place by htmx


def test_expiry_is_checked_in_japan_time(desk, time_machine):
    # 2026-12-06 23:30 in UTC is already the 7th in Japan: the 6th is past there.
    time_machine.move_to(dt.datetime(2026, 12, 6, 23, 30, tzinfo=dt.UTC))
    with pytest.raises(services.CouponError, match="有効期限が過去の日付です"):
        services.do_issue_coupon(desk["case"], actor=desk["agent"], kind=CouponKind.YEN, value=500,
                                 expires_on=dt.date(2026, 12, 6), reason="お詫び")
    coupon = services.do_issue_coupon(desk["case"], actor=desk["agent"], kind=CouponKind.YEN, value=500,
                                      expires_on=dt.date(2026, 12, 7), reason="お詫び")
    assert not coupon.expired()


def test_a_code_in_use_is_refused(desk):
    services.do_issue_coupon(desk["case"], actor=desk["agent"], kind=CouponKind.YEN, value=500,
                             expires_on=in_days(5), reason="お詫び", code="SORRY500")
    with pytest.raises(services.CouponError, match="SORRY500 はすでに使われています"):
        services.do_issue_coupon(desk["case"], actor=desk["agent"], kind=CouponKind.YEN, value=500,
                                 expires_on=in_days(5), reason="お詫び", code="sorry500")
    assert Compensation.objects.count() == 1


def test_case_panel_and_customer_page_show_the_coupon_and_its_state(client, desk):
    coupon = services.do_issue_coupon(desk["case"], actor=desk["agent"], kind=CouponKind.YEN, value=5000,
                                      expires_on=in_days(30), reason="破損のお詫び", code="WAIT5000")
    client.force_login(desk["agent"])
    case_page = client.get(f"/cases/{desk['case'].pk}/").content.decode()
    assert f'hx-get="/coupons/case/{desk["case"].pk}/"' in case_page  # the form, when opened
    assert "WAIT5000" in case_page and "承認待ち" in case_page  # the coupons, in the page
    panel = client.get(f"/coupons/case/{desk['case'].pk}/").content.decode()
    assert "WAIT5000" in panel and "承認待ち" in panel and "5,000円" in panel
    services.do_record_platform_result(coupon.pk, platform="Shopify", error="Code has already been taken")
    customer_page = client.get(f"/customers/{desk['case'].customer_id}/").content.decode()
    assert "WAIT5000" in customer_page and "Shopify: 失敗: Code has already been taken" in customer_page
    coupon.refresh_from_db()
    assert coupon.platform_state == PlatformState.FAILED


def test_issuing_through_the_page_redirects_to_the_case_with_the_message(client, desk, issued):
    client.force_login(desk["agent"])
    data = {**BASE_FORM, "cpn-expires_on": in_days(30).isoformat(), "cpn-value": "8000"}
    response = client.post(f"/coupons/case/{desk['case'].pk}/issue/", data, headers={"HX-Request": "true"})
    assert response.status_code == 204 and response["HX-Redirect"] == f"/cases/{desk['case'].pk}/"
    page = client.get(f"/cases/{desk['case'].pk}/").content.decode()
    assert "チームリーダーの承認を待っています" in page
    assert issued == []


def test_case_page_queries_do_not_grow_with_coupons(client, desk):
    from madoguchi.cases.tests.test_query_counts import count_queries

    def issue(n: int) -> None:
        for _n in range(n):
            services.do_issue_coupon(desk["case"], actor=desk["lead"], kind=CouponKind.YEN, value=100,
                                     expires_on=in_days(10), reason="お詫び")

    client.force_login(desk["agent"])
    url = f"/cases/{desk['case'].pk}/"
    issue(1)
    small = count_queries(client, url)
    issue(6)
    assert count_queries(client, url) == small
