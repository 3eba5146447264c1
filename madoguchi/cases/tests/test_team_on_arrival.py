"""Every case has a team from its arrival (mail, chat, forms), so a compensation request stays
within that team's lead; a request on a case of no team is decided by the admins only."""

from __future__ import annotations

import time
from importlib import import_module

import pytest
from django.apps import apps
from django.core import signing

from madoguchi.accounts.models import AuthorityLimit, Role
from madoguchi.cases.models import Case, Compensation, CompensationState
from madoguchi.chat import spam
from madoguchi.mail.ingest import do_ingest_raw
from madoguchi.mail.models import Mailbox
from madoguchi.mail.tests.helpers import japanese_mail
from madoguchi.notifications.models import Notification
from madoguchi.testing.factories import CaseFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_open", "huey_immediate")]



@pytest.fixture
def teams():
    AuthorityLimit.objects.create(role=Role.AGENT, max_compensation_yen=3000)
    AuthorityLimit.objects.create(role=Role.LEAD, max_compensation_yen=30000)
    first = TeamFactory(name="サポート1課", lead=UserFactory(role=Role.LEAD, display_name="佐藤 美穂"))
    second = TeamFactory(name="返品・交換課", lead=UserFactory(role=Role.LEAD, display_name="井上 大輔"))
    first.agent = UserFactory(team=first, display_name="田中 健太")
    admin = UserFactory(role=Role.ADMIN, display_name="店長 山本")
    return first, second, admin


def ingest(raw: bytes, capture, mailbox: Mailbox | None = None) -> Case:  # type: ignore[no-untyped-def]
    with capture(execute=True):
        row, _created = do_ingest_raw(raw, "smtp", mailbox)
    row.refresh_from_db()
    return row.case


def test_a_mail_to_a_mailbox_with_a_team_opens_a_case_of_that_team(teams, django_capture_on_commit_callbacks):
    _first, returns, _admin = teams
    mailbox = Mailbox.objects.create(name="返品窓口", address="henpin@shop.example.jp", team=returns)
    case = ingest(japanese_mail(subject="返品したい", to="henpin@shop.example.jp"), django_capture_on_commit_callbacks, mailbox)
    assert case.team == returns


def test_a_mail_to_a_mailbox_without_a_team_goes_to_the_shops_first_team(teams, django_capture_on_commit_callbacks):
    first, _returns, _admin = teams
    mailbox = Mailbox.objects.create(name="サポート", address="support@shop.example.jp")
    case = ingest(japanese_mail(), django_capture_on_commit_callbacks, mailbox)
    assert case.team == first  # the lowest id, not the first by name ("サポート1課" < "返品・交換課" either way)


def test_a_contact_form_case_gets_the_shops_first_team(client, teams, settings):
    first, _returns, _admin = teams
    from django.core.cache import cache

    cache.clear()
    stamp = signing.dumps(time.time() - 30, salt=spam.SALT)
    response = client.post("/chat/forms/contact/", {
        "name": "加藤 恵子", "email": "keiko@example.jp", "order_number": "", "stamp": stamp,
        "message": "届いたタオルの色が注文と違います。",
    }, REMOTE_ADDR="203.0.113.5")
    assert response.status_code == 200, response.content.decode()
    assert Case.objects.get().team == first


def test_a_request_on_a_case_of_no_team_goes_to_the_admins_and_no_other_lead_decides_it(client, teams):
    first, returns, admin = teams
    case = CaseFactory(assignee=first.agent, team=None, subject="贈答品の熨斗が違います")  # opened before teams on arrival
    client.force_login(first.agent)
    client.post(f"/cases/{case.pk}/compensations/", {"cp-kind": "refund", "cp-amount_yen": "5000", "cp-reason": "熨斗の誤り"})
    request = Compensation.objects.get(case=case)
    assert request.state == CompensationState.PENDING
    assert list(Notification.objects.filter(kind="approval").values_list("user", flat=True)) == [admin.pk]

    client.force_login(returns.lead)  # a lead of another team
    assert f'data-compensation="{request.pk}"' not in client.get("/approvals/").content.decode()
    response = client.post(f"/approvals/{request.pk}/", {"decision": "approve"}, follow=True)
    assert response.status_code == 200
    assert "この案件はチームが決まっていないため、補償は管理者が判断します。" in response.content.decode()
    request.refresh_from_db()
    assert request.state == CompensationState.PENDING

    client.force_login(admin)
    client.post(f"/approvals/{request.pk}/", {"decision": "approve"})
    request.refresh_from_db()
    assert request.state == CompensationState.GRANTED


def test_a_lead_of_another_team_may_not_decide_a_teams_request(client, teams):
    first, returns, _admin = teams
    case = CaseFactory(assignee=first.agent, team=first)
    client.force_login(first.agent)
    client.post(f"/cases/{case.pk}/compensations/", {"cp-kind": "coupon", "cp-amount_yen": "4000", "cp-reason": "お詫び"})
    request = Compensation.objects.get(case=case)
    client.force_login(returns.lead)
    response = client.post(f"/approvals/{request.pk}/", {"decision": "approve"}, follow=True)
    assert "この案件の補償は、案件のチームのリーダーか管理者が判断します。" in response.content.decode()
    request.refresh_from_db()
    assert request.state == CompensationState.PENDING


def test_the_migration_gives_team_less_cases_the_assignees_team_else_the_first(teams):
    first, returns, _admin = teams
    with_assignee = CaseFactory(assignee=UserFactory(team=returns), team=None)
    unassigned = CaseFactory(assignee=None, team=None)
    teamless_agents = CaseFactory(assignee=UserFactory(team=None), team=None)
    migration = import_module("madoguchi.cases.migrations.0004_give_teamless_cases_a_team")
    migration.give_teams(apps, None)
    for case in (with_assignee, unassigned, teamless_agents):
        case.refresh_from_db()
    assert with_assignee.team == returns and unassigned.team == first
    assert teamless_agents.team is None  # as a new case of theirs: the admins decide its requests


def test_mail_and_form_cases_get_an_agent_by_the_teams_rule(client, teams, settings, django_capture_on_commit_callbacks):
    """Issue 22: with the team's rule on, a case arriving by mail (filed in bulk) or by a form
    gets an available member, round robin, and stays 新規 until a person answers."""
    from django.core.cache import cache

    from madoguchi.accounts.models import AssignmentRule, Availability
    from madoguchi.testing.factories import UserFactory

    first, returns, _admin = teams
    returns.assignment_rule = AssignmentRule.ROUND_ROBIN
    returns.save()
    one = UserFactory(team=returns, display_name="小林 誠")
    UserFactory(team=returns, display_name="中村 由美", availability=Availability.VACATION)
    two = UserFactory(team=returns, display_name="渡辺 翔太")
    mailbox = Mailbox.objects.create(name="返品窓口", address="henpin@shop.example.jp", team=returns)
    by_mail = [ingest(japanese_mail(subject=f"返品したい {n}", to="henpin@shop.example.jp", sender=f"kyaku{n}@example.jp",
                                    message_id=f"<r{n}@example.jp>"),
                      django_capture_on_commit_callbacks, mailbox) for n in range(3)]
    assert [case.assignee for case in by_mail] == [one, two, one]
    assert all(case.status == "new" and case.team == returns for case in by_mail)
    first.assignment_rule = AssignmentRule.LEAST_LOADED
    first.save()
    cache.clear()
    stamp = signing.dumps(time.time() - 30, salt=spam.SALT)
    client.post("/chat/forms/contact/", {
        "name": "加藤 恵子", "email": "keiko@example.jp", "order_number": "", "stamp": stamp,
        "message": "届いたタオルの色が注文と違います。",
    }, REMOTE_ADDR="203.0.113.5")
    assert Case.objects.get(channel="form").assignee == first.agent
