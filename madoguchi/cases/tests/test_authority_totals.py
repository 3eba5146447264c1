"""An authority limit cannot be split: it applies to the total on the case and, over the shop's
period, to the total for the customer; the approvals queue shows the running totals."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from madoguchi.accounts.models import AuthorityLimit, CompensationPolicy, Role, SettingsChange
from madoguchi.cases import services
from madoguchi.cases.models import Compensation, CompensationState
from madoguchi.notifications.models import Notification
from madoguchi.testing.factories import CaseFactory, CustomerFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    AuthorityLimit.objects.create(role=Role.AGENT, max_compensation_yen=3000)
    AuthorityLimit.objects.create(role=Role.LEAD, max_compensation_yen=30000)
    lead = UserFactory(role=Role.LEAD, display_name="佐藤 美穂")
    team = TeamFactory(lead=lead)
    team.agent = UserFactory(team=team, display_name="田中 健太")
    team.admin = UserFactory(role=Role.ADMIN, display_name="店長 山本", username="tencho")
    return team


def post_compensation(client, case, amount: int, reason: str = "配送遅延のお詫び", kind: str = "coupon"):
    return client.post(f"/cases/{case.pk}/compensations/",
                       {"cp-kind": kind, "cp-amount_yen": str(amount), "cp-reason": reason}, follow=True)


def states(case) -> list[str]:
    return list(Compensation.objects.filter(case=case).order_by("id").values_list("state", flat=True))


def test_five_coupons_of_the_full_limit_on_one_case_are_one_grant_and_four_requests(client, team):
    case = CaseFactory(assignee=team.agent, team=team)
    client.force_login(team.agent)
    first = post_compensation(client, case, 3000)
    assert "補償を記録しました" in first.content.decode()
    for _ in range(4):
        response = post_compensation(client, case, 3000)
        assert response.status_code == 200
    assert states(case) == ["granted"] + ["pending"] * 4
    # The agent is told why, in words: what is on the case already, and the total.
    body = response.content.decode()
    assert "この案件ですでに 12,000円 の補償を付与・申請しているため、合計 15,000円 が権限の上限 3,000円 を超えます。" in body
    assert "チームリーダーの承認を待っています" in body
    # The lead is asked for each.
    assert Notification.objects.filter(user=team.lead, kind="approval").count() == 4


def test_a_small_amount_after_a_granted_one_waits_when_the_total_passes_the_limit(client, team):
    case = CaseFactory(assignee=team.agent, team=team)
    client.force_login(team.agent)
    post_compensation(client, case, 2500)
    second = post_compensation(client, case, 1000, kind="refund", reason="送料の返金")
    assert states(case) == ["granted", "pending"]
    assert "この案件ですでに 2,500円 の補償を付与・申請しているため、合計 3,500円 が権限の上限 3,000円 を超えます。" in second.content.decode()


def test_a_rejected_request_does_not_count_toward_the_total(client, team):
    case = CaseFactory(assignee=team.agent, team=team)
    client.force_login(team.agent)
    post_compensation(client, case, 5000)
    waiting = Compensation.objects.get(case=case)
    services.do_decide_compensation(waiting, actor=team.lead, approve=False, note="金額が大きすぎます")
    post_compensation(client, case, 2000)
    assert states(case) == ["rejected", "granted"]


def test_the_limit_applies_to_the_customer_over_the_period_across_cases(client, team):
    customer = CustomerFactory(name="小林 直子")
    earlier = CaseFactory(assignee=team.agent, team=team, customer=customer, subject="急須の蓋が割れていました")
    later = CaseFactory(assignee=team.agent, team=team, customer=customer, subject="湯呑みの色が違います")
    client.force_login(team.agent)
    post_compensation(client, earlier, 2000)
    response = post_compensation(client, later, 2000)
    assert states(earlier) == ["granted"] and states(later) == ["pending"]
    assert ("このお客様には過去30日間にすでに 2,000円 の補償を付与・申請しているため、合計 4,000円 が権限の上限 3,000円 を超えます。"
            in response.content.decode())


def test_the_admin_sets_the_customer_period_on_the_settings_page_and_zero_turns_it_off(client, team):
    customer = CustomerFactory()
    earlier = CaseFactory(assignee=team.agent, team=team, customer=customer)
    later = CaseFactory(assignee=team.agent, team=team, customer=customer)
    client.force_login(team.admin)
    page = client.get("/settings/").content.decode()
    assert 'name="customer_period_days"' in page and 'value="30"' in page
    assert client.post("/settings/customer-period/", {"customer_period_days": "-3"}).status_code == 400
    assert client.post("/settings/customer-period/", {"customer_period_days": "0"}).status_code == 302
    assert CompensationPolicy.objects.get().customer_period_days == 0
    change = SettingsChange.objects.get(target="補償のルール")  # audited like every setting
    assert change.actor == team.admin and change.changes[0]["old"] == "30" and change.changes[0]["new"] == "0"
    client.force_login(team.agent)
    post_compensation(client, earlier, 2000)
    post_compensation(client, later, 2000)
    assert states(later) == ["granted"]  # per case only, as the admin chose


def test_only_an_admin_changes_the_customer_period(client, team):
    client.force_login(team.lead)
    assert client.post("/settings/customer-period/", {"customer_period_days": "0"}).status_code == 403
    assert not CompensationPolicy.objects.exists()


def test_the_approvals_queue_shows_what_is_granted_already_and_the_total_if_approved(client, team):
    customer = CustomerFactory()
    other_case = CaseFactory(assignee=team.agent, team=team, customer=customer)
    case = CaseFactory(assignee=team.agent, team=team, customer=customer)
    client.force_login(team.agent)
    post_compensation(client, other_case, 1000)  # granted: ¥1,000 for the customer
    post_compensation(client, case, 1500)        # granted: the customer's total is ¥2,500
    post_compensation(client, case, 3000)        # waits
    waiting = Compensation.objects.get(state=CompensationState.PENDING)
    client.force_login(team.lead)
    body = client.get("/approvals/").content.decode()
    row = body.split(f'data-compensation="{waiting.pk}"')[1].split("</tr>")[0]
    granted = row.split('data-testid="granted-so-far">')[1].split("</td>")[0]
    total = row.split('data-testid="total-if-approved">')[1].split("</td>")[0]
    assert "この案件 1,500円" in granted and "お客様（過去30日） 2,500円" in granted
    assert "この案件 4,500円" in total and "お客様（過去30日） 5,500円" in total
    assert 'value="approve"' in row  # within the lead's ¥30,000


def test_an_approver_limit_applies_to_the_total_if_approved(client, team):
    case = CaseFactory(assignee=team.agent, team=team)
    client.force_login(team.agent)
    post_compensation(client, case, 20000)
    services.do_decide_compensation(Compensation.objects.get(), actor=team.lead, approve=True)
    post_compensation(client, case, 15000)
    waiting = Compensation.objects.get(state=CompensationState.PENDING)
    client.force_login(team.lead)
    row = client.get("/approvals/").content.decode().split(f'data-compensation="{waiting.pk}"')[1].split("</tr>")[0]
    assert 'value="approve"' not in row
    assert "承認した場合の合計（35,000円）が上限（30,000円）を超えるため、管理者が判断します。" in row
    response = client.post(f"/approvals/{waiting.pk}/", {"decision": "approve"}, follow=True)
    assert "承認した場合の合計（35,000円）が上限（30,000円）を超えるため" in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.state == CompensationState.PENDING
    # The admins were asked for it in the first place, not the lead (who was, for the first).
    asked = [n.user_id for n in Notification.objects.filter(kind="approval", case=case) if "15,000円" in n.text]
    assert asked == [team.admin.pk]


@pytest.mark.skipif("connection.vendor != 'postgresql'",
                    reason="row locks are PostgreSQL's; SQLite runs write transactions one at a time (BEGIN IMMEDIATE), "
                           "and its shared in-memory test database refuses a second writer instead of waiting")
@pytest.mark.django_db(transaction=True)
def test_two_requests_at_once_do_not_both_slip_under_the_limit(team):
    """While one request is being written (its transaction open), another on the same case waits
    for it, then counts it: the second of two ¥3,000 coupons waits for approval."""
    from django.test import Client

    case = CaseFactory(assignee=team.agent, team=team)
    other = Client()
    other.force_login(team.agent)
    done: list[int] = []

    def second_request() -> None:
        try:
            done.append(post_compensation(other, case, 3000, reason="同時に押したお詫び").status_code)
        finally:
            connection.close()

    with transaction.atomic():
        services.do_request_compensation(case, actor=team.agent, kind="coupon", amount_yen=3000, reason="お詫び")
        thread = threading.Thread(target=second_request)
        thread.start()
        time.sleep(1.0)
        assert not done, "the second request must wait for the first to commit"
    thread.join(timeout=30)
    assert done == [200]
    assert states(case) == ["granted", "pending"]
