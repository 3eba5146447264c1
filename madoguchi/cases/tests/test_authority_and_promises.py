"""Who decides a compensation above the lead's own authority, and where promises go on a handover."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from madoguchi.accounts.models import AuthorityLimit, Role
from madoguchi.cases import services
from madoguchi.cases.models import CompensationState
from madoguchi.notifications.models import Notification
from madoguchi.testing.factories import CaseFactory, CommitmentFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    AuthorityLimit.objects.create(role=Role.AGENT, max_compensation_yen=3000)
    AuthorityLimit.objects.create(role=Role.LEAD, max_compensation_yen=30000)
    lead = UserFactory(role=Role.LEAD, display_name="佐藤 美穂")
    team = TeamFactory(lead=lead)
    team.agent = UserFactory(team=team, display_name="田中 健太")
    team.admin = UserFactory(role=Role.ADMIN, display_name="店長 山本")
    return team


def test_an_amount_above_the_leads_own_limit_goes_to_the_admins(team):
    case = CaseFactory(assignee=team.agent, team=team)
    comp = services.do_request_compensation(case, actor=team.agent, kind="refund", amount_yen=50000, reason="高額商品の破損")
    assert comp.state == CompensationState.PENDING
    assert list(Notification.objects.filter(kind="approval").values_list("user", flat=True)) == [team.admin.pk]
    assert services.do_decide_compensation(comp, actor=team.admin, approve=True).state == CompensationState.GRANTED


def test_a_leads_own_request_is_decided_by_an_admin_never_by_the_lead(team):
    case = CaseFactory(assignee=team.lead, team=team)
    comp = services.do_request_compensation(case, actor=team.lead, kind="refund", amount_yen=40000, reason="二重請求")
    assert not Notification.objects.filter(user=team.lead, kind="approval").exists()
    assert Notification.objects.filter(user=team.admin, kind="approval").exists()
    with pytest.raises(services.CaseError, match="ご自身の申請"):
        services.do_decide_compensation(comp, actor=team.lead, approve=True)


def test_the_approvals_queue_shows_buttons_only_where_the_lead_may_decide(client, team):
    case = CaseFactory(assignee=team.agent, team=team)
    small = services.do_request_compensation(case, actor=team.agent, kind="refund", amount_yen=5000, reason="二重請求")
    large = services.do_request_compensation(case, actor=team.agent, kind="refund", amount_yen=50000, reason="高額商品の破損")
    client.force_login(team.lead)
    body = client.get("/approvals/").content.decode()
    small_row = body.split(f'data-compensation="{small.pk}"')[1].split("</tr>")[0]
    large_row = body.split(f'data-compensation="{large.pk}"')[1].split("</tr>")[0]
    assert 'value="approve"' in small_row
    assert 'value="approve"' not in large_row and "上限（30,000円）を超えるため、管理者が判断します" in large_row


def test_an_agent_who_posts_a_decision_sees_why_on_the_case_not_a_403(client, team):
    case = CaseFactory(assignee=team.agent, team=team)
    comp = services.do_request_compensation(case, actor=team.agent, kind="refund", amount_yen=5000, reason="二重請求")
    client.force_login(team.agent)
    response = client.post(f"/approvals/{comp.pk}/", {"decision": "approve"}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == f"/cases/{case.pk}/"
    assert "案件のチームのリーダーか管理者が判断します" in response.content.decode()
    comp.refresh_from_db()
    assert comp.state == CompensationState.PENDING


def test_a_rejection_reads_as_rejected_with_the_leads_reason_on_the_case(client, team):
    case = CaseFactory(assignee=team.agent, team=team)
    comp = services.do_request_compensation(case, actor=team.agent, kind="refund", amount_yen=5000, reason="二重請求")
    services.do_decide_compensation(comp, actor=team.lead, approve=False, note="決済会社の確認が先です")
    client.force_login(team.agent)
    body = client.get(f"/cases/{case.pk}/").content.decode()
    assert "却下: 佐藤 美穂" in body and "承認: 佐藤 美穂" not in body
    assert "決済会社の確認が先です" in body


def test_handover_gives_the_open_promises_to_the_next_agent_who_is_then_escalated_to(team):
    case = CaseFactory(assignee=team.agent, team=team)
    nextagent = UserFactory(team=team, display_name="鈴木 一郎")
    promise = CommitmentFactory(case=case, owner=team.agent, description="明日までに代替品の在庫を確認して連絡")
    department = CommitmentFactory(case=case, owner=None, department="物流部", description="配送業者に調査依頼")
    services.do_hand_over(case, actor=team.agent, expected_version=1, note="在庫確認の約束も引き継ぎます", to_user=nextagent)
    promise.refresh_from_db()
    department.refresh_from_db()
    assert promise.owner == nextagent and department.owner is None
    assert case.audit_events.get(action="handed_over").changes["commitments"] == ["明日までに代替品の在庫を確認して連絡"]

    services.escalate_overdue_commitments(now=timezone.now() + dt.timedelta(days=2))
    told = set(Notification.objects.filter(kind="commitment_overdue").values_list("user", flat=True))
    assert nextagent.pk in told and team.lead.pk in told


def test_a_case_with_two_promises_due_is_listed_once_at_the_earliest(client, team):
    now = timezone.now()
    case = CaseFactory(assignee=team.agent, team=team)
    CommitmentFactory(case=case, owner=team.agent, due_at=now - dt.timedelta(minutes=30), description="折り返し電話")
    CommitmentFactory(case=case, owner=team.agent, due_at=now - dt.timedelta(minutes=10), description="返金の連絡")
    client.force_login(team.agent)
    body = client.get("/?queue=promises").content.decode()
    assert body.count('<tr class="prio-') == 1
    earliest = timezone.localtime(now - dt.timedelta(minutes=30)).strftime("%H:%M")
    assert earliest in body


def test_a_due_date_without_a_promise_is_refused_not_dropped(client):
    from madoguchi.cases.tests.test_bad_input import new_case_data

    client.force_login(UserFactory())
    due = (timezone.localtime() + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post("/cases/new/", new_case_data(commitment_description="   ", commitment_due_at=due))
    assert response.status_code == 400
    assert "期限を入れた約束の内容を入力してください" in response.content.decode()


def test_the_approvals_queue_costs_the_same_for_one_request_or_many(client, team):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    case = CaseFactory(assignee=team.agent, team=team)
    client.force_login(team.lead)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/approvals/").status_code == 200
        return len(captured)

    services.do_request_compensation(case, actor=team.agent, kind="refund", amount_yen=5000, reason="二重請求")
    queries()  # the session's first request also checks its sign-in (2FA) once
    one = queries()
    for amount in (6000, 40000, 50000, 7000):
        services.do_request_compensation(case, actor=team.agent, kind="refund", amount_yen=amount, reason="破損")
    assert queries() == one
