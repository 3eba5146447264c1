"""End to end in headless Chromium, two browser contexts: an agent issues a coupon over their
limit from the case page, it waits; the team lead approves it; the coupon is issued (and
`coupon_issued` sent once) and both see its state on the case and the customer page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from madoguchi.accounts.models import AuthorityLimit, Role
from madoguchi.cases.models import CompensationKind, CompensationState
from madoguchi.conftest import login, screenshot
from madoguchi.coupons.models import Coupon
from madoguchi.coupons.signals import coupon_issued
from madoguchi.testing.factories import CaseFactory, CustomerFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk():
    lead = UserFactory(username="sato", display_name="佐藤 花子", role=Role.LEAD)
    team = TeamFactory(name="お客様サポート課", lead=lead)
    lead.team = team
    lead.save()
    agent = UserFactory(username="tanaka", display_name="田中 健太", team=team)
    AuthorityLimit.objects.create(role=Role.AGENT, max_compensation_yen=3000)
    AuthorityLimit.objects.create(role=Role.LEAD, max_compensation_yen=30000)
    customer = CustomerFactory(name="山田 太郎")
    case = CaseFactory(customer=customer, team=team, assignee=agent, subject="届いたマグカップが割れていた")
    return {"case": case, "customer": customer}


def test_coupon_over_the_agents_limit_waits_for_the_lead(new_page, desk):
    announced = []
    coupon_issued.connect(lambda sender, coupon, actor, **kw: announced.append((coupon.code, actor.username)),
                          weak=False, dispatch_uid="e2e-coupon")
    try:
        case = desk["case"]
        agent = new_page()
        login(agent, "tanaka")
        agent.goto(f"/cases/{case.pk}/")
        assert "クーポンはありません" in agent.inner_text("#coupons")  # in the page itself
        agent.click("#coupons summary")  # the form comes when opened
        agent.wait_for_selector("#coupons[data-loaded] input[name=cpn-value]")
        # A past expiry is answered in Japanese, in place, and nothing is recorded.
        agent.fill("input[name=cpn-value]", "5000")
        yesterday = timezone.localdate() - dt.timedelta(days=1)
        agent.fill("input[name=cpn-expires_on]", yesterday.isoformat())
        agent.fill("input[name=cpn-code]", "owabi5000")
        agent.fill("input[name=cpn-reason]", "破損のお詫び（次回のお買い物で）")
        agent.click("#coupons button.primary")
        agent.wait_for_selector("#coupons .error >> text=有効期限が過去の日付です")
        assert not Coupon.objects.exists()
        agent.fill("input[name=cpn-expires_on]", (timezone.localdate() + dt.timedelta(days=60)).isoformat())
        agent.click("#coupons button.primary")
        agent.wait_for_selector("text=チームリーダーの承認を待っています")
        coupon = Coupon.objects.select_related("compensation").get()
        assert coupon.code == "OWABI5000" and coupon.compensation.kind == CompensationKind.COUPON
        assert coupon.compensation.state == CompensationState.PENDING and announced == []
        assert "承認待ち" in agent.inner_text("#coupons [data-testid=coupon-state]")
        assert "承認待ち" in agent.inner_text("#compensations")  # the same entry of the ledger
        screenshot(agent, "coupon-waiting")

        lead = new_page()
        login(lead, "sato")
        lead.goto("/approvals/")
        assert "クーポン" in lead.inner_text("main")
        lead.click("button[value=approve]")
        lead.wait_for_selector("text=判断を記録しました")
        coupon.compensation.refresh_from_db()
        assert coupon.compensation.state == CompensationState.GRANTED
        assert announced == [("OWABI5000", "sato")]

        agent.reload()
        assert agent.inner_text("#coupons [data-testid=coupon-state]") == "発行済み"
        lead.goto(f"/customers/{desk['customer'].pk}/")
        assert "OWABI5000" in lead.inner_text("[data-testid=customer-coupons]")
        assert "発行済み" in lead.inner_text("[data-testid=customer-coupons]")
        screenshot(lead, "coupon-on-customer-page")
    finally:
        coupon_issued.disconnect(dispatch_uid="e2e-coupon")
