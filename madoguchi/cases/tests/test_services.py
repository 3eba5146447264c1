"""The case desk's rules: audit, optimistic lock, authority, promises and their escalation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from madoguchi.accounts.models import AuthorityLimit, Role
from madoguchi.cases import services
from madoguchi.cases.models import CommitmentState, CompensationState, Interaction, Status
from madoguchi.notifications.models import Notification
from madoguchi.testing.factories import (
    CaseFactory,
    CustomerFactory,
    TeamFactory,
    UserFactory,
    category,
)

pytestmark = pytest.mark.django_db


def test_create_case_keeps_the_complaint_verbatim_as_first_timeline_entry():
    agent = UserFactory()
    complaint = "  届いたマグカップが割れていました😢\n箱もへこんでいます。ＡＢＣ１２３  "
    case = services.do_create_case(
        actor=agent, customer=CustomerFactory(), subject="破損", channel="phone",
        category=category("defect"), complaint=complaint, assignee=agent,
    )
    entry = Interaction.objects.get(case=case)
    assert entry.body == complaint
    assert entry.author == agent  # phone: the agent who took the call is recorded
    assert case.status == Status.OPEN
    assert case.audit_events.filter(action="created").exists()


def test_update_with_stale_version_is_refused_and_writes_nothing():
    agent_a, agent_b = UserFactory(), UserFactory()
    case = CaseFactory(assignee=agent_a)
    services.do_update_case(case, actor=agent_a, expected_version=1, changes={"solution": "代替品を発送"})
    with pytest.raises(services.CaseConflict) as conflict:
        services.do_update_case(case, actor=agent_b, expected_version=1, changes={"solution": "返金"})
    assert str(agent_a) in str(conflict.value)
    case.refresh_from_db()
    assert case.solution == "代替品を発送"
    assert case.version == 2


def test_handover_requires_a_note_and_notifies_the_next_agent():
    first, second = UserFactory(), UserFactory()
    case = CaseFactory(assignee=first)
    with pytest.raises(services.CaseError):
        services.do_hand_over(case, actor=first, expected_version=1, note="   ", to_user=second)
    services.do_hand_over(case, actor=first, expected_version=1, note="物流部に確認中。明日15時に折り返し予定。", to_user=second)
    case.refresh_from_db()
    assert case.assignee == second
    assert Notification.objects.filter(user=second, kind="handover").exists()


def test_commitment_due_in_the_past_is_refused():
    agent = UserFactory()
    with pytest.raises(services.CaseError, match="過去"):
        services.do_add_commitment(CaseFactory(), actor=agent, description="折り返し電話", due_at=timezone.now() - dt.timedelta(hours=1))


def test_compensation_within_limit_is_granted_at_once():
    agent = UserFactory()
    AuthorityLimit.objects.create(role=Role.AGENT, max_compensation_yen=3000)
    comp = services.do_request_compensation(CaseFactory(), actor=agent, kind="coupon", amount_yen=3000, reason="配送遅延のお詫び")
    assert comp.state == CompensationState.GRANTED


def test_compensation_over_limit_waits_for_the_team_lead():
    lead = UserFactory(role=Role.LEAD)
    team = TeamFactory(lead=lead)
    agent = UserFactory(team=team)
    AuthorityLimit.objects.create(role=Role.AGENT, max_compensation_yen=3000)
    case = CaseFactory(assignee=agent, team=team)
    comp = services.do_request_compensation(case, actor=agent, kind="refund", amount_yen=5000, reason="二重請求")
    assert comp.state == CompensationState.PENDING
    assert Notification.objects.filter(user=lead, kind="approval").exists()
    with pytest.raises(services.CaseError):
        services.do_decide_compensation(comp, actor=agent, approve=True)
    decided = services.do_decide_compensation(comp, actor=lead, approve=True)
    assert decided.state == CompensationState.GRANTED and decided.approved_by == lead


def test_a_lead_cannot_decide_compensation_on_another_teams_case():
    lead_a, lead_b = UserFactory(role=Role.LEAD), UserFactory(role=Role.LEAD)
    team_b = TeamFactory(lead=lead_b)
    agent = UserFactory(team=team_b)
    AuthorityLimit.objects.create(role=Role.AGENT, max_compensation_yen=3000)
    comp = services.do_request_compensation(CaseFactory(assignee=agent, team=team_b), actor=agent, kind="refund",
                                            amount_yen=5000, reason="二重請求")
    with pytest.raises(services.CaseError, match="チームのリーダーか管理者"):
        services.do_decide_compensation(comp, actor=lead_a, approve=True)
    comp.refresh_from_db()
    assert comp.state == CompensationState.PENDING and comp.approved_by is None
    assert services.do_decide_compensation(comp, actor=UserFactory(role=Role.ADMIN), approve=False).state == CompensationState.REJECTED


@pytest.mark.parametrize("amount", [0, -500])
def test_compensation_amount_must_be_positive(amount):
    with pytest.raises(services.CaseError):
        services.do_request_compensation(CaseFactory(), actor=UserFactory(), kind="refund", amount_yen=amount, reason="x")


def test_overdue_commitment_is_escalated_to_the_lead_once():
    lead = UserFactory(role=Role.LEAD)
    team = TeamFactory(lead=lead)
    agent = UserFactory(team=team)
    case = CaseFactory(assignee=agent, team=team)
    commitment = services.do_add_commitment(case, actor=agent, description="折り返し電話", due_at=timezone.now() + dt.timedelta(hours=1))
    assert services.escalate_overdue_commitments(now=timezone.now()) == 0
    later = timezone.now() + dt.timedelta(hours=2)
    assert services.escalate_overdue_commitments(now=later) == 1
    assert services.escalate_overdue_commitments(now=later) == 0
    assert Notification.objects.filter(user=lead, kind="commitment_overdue").count() == 1
    commitment.refresh_from_db()
    assert commitment.state == CommitmentState.OPEN and commitment.escalated_at is not None


def test_customer_reply_reopens_a_resolved_case():
    agent = UserFactory()
    case = CaseFactory(assignee=agent, status=Status.RESOLVED, resolved_at=timezone.now())
    services.do_add_interaction(case, actor=None, kind="inbound", channel="email", body="まだ直っていません")
    case.refresh_from_db()
    assert case.status == Status.OPEN and case.resolved_at is None


def test_promise_labels_say_overdue_today_and_tomorrow():
    from madoguchi.cases.templatetags.desk import due_label

    now = timezone.localtime()
    assert due_label(now - dt.timedelta(minutes=1)) == "期限切れ"
    assert due_label(now.replace(hour=23, minute=59)) in ("本日期限", "期限切れ")
    assert due_label(now + dt.timedelta(days=1)) == "明日期限"
    assert due_label(now + dt.timedelta(days=5)) == ""
