"""Taking and sharing work (issue 22, item 1): 「自分が担当」, the first reply assigns, a team's
automatic assignment (round robin / least loaded, skipping people away), agent status."""

from __future__ import annotations

import pytest

from madoguchi.accounts.models import AssignmentRule, Availability, Role, SettingsChange
from madoguchi.cases import services
from madoguchi.cases.models import AuditEvent, Case, Channel, InteractionKind, Status
from madoguchi.notifications.models import Notification
from madoguchi.testing.factories import (
    CaseFactory,
    CustomerFactory,
    TeamFactory,
    UserFactory,
    category,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    lead = UserFactory(username="lead", display_name="佐藤 美穂", role=Role.LEAD)
    team = TeamFactory(name="サポート1課", lead=lead)
    team.people = [UserFactory(username=f"agent{n}", display_name=name, team=team)
                   for n, name in enumerate(["田中 健太", "鈴木 一郎", "高橋 美咲"])]
    return team


def arrive(team, subject="届いたマグカップが割れていました"):
    return services.do_create_case(actor=None, customer=CustomerFactory(), subject=subject, channel=Channel.EMAIL,
                                   category=category(), complaint="箱がへこんでいて、取っ手が欠けていました。", team=team)


def test_take_assigns_the_case_to_me_with_an_audit_entry_and_the_version_check(team):
    me, colleague = team.people[0], team.people[1]
    case = CaseFactory(assignee=colleague, team=team, status=Status.OPEN)
    taken = services.do_take_case(case, actor=me, expected_version=case.version)
    assert taken.assignee == me and taken.version == case.version + 1
    event = AuditEvent.objects.get(case=case, action="taken")
    assert event.actor == me and event.changes["assignee"] == [colleague.pk, me.pk]
    assert Notification.objects.filter(user=colleague, kind="handover").exists()  # the colleague is told
    with pytest.raises(services.CaseConflict):  # the version read before someone else's change
        services.do_take_case(case, actor=team.people[2], expected_version=case.version)
    assert Case.objects.get(pk=case.pk).assignee == me


def test_take_from_the_inbox_row_answers_the_cell_and_a_stale_row_says_who_has_it(client, team):
    me, other = team.people[0], team.people[1]
    case = CaseFactory(assignee=None, team=team, status=Status.NEW, subject="のしの名前が違う")
    client.force_login(me)
    inbox = client.get("/?queue=unassigned").content.decode()
    assert 'data-testid="take"' in inbox and f"/cases/{case.pk}/take/" in inbox
    response = client.post(f"/cases/{case.pk}/take/", {"version": case.version}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "田中 健太" in response.content.decode() and 'data-testid="taken"' in response.content.decode()
    client.force_login(other)
    stale = client.post(f"/cases/{case.pk}/take/", {"version": case.version}, HTTP_HX_REQUEST="true").content.decode()
    assert "先に更新しました" in stale and "田中 健太" in stale
    assert Case.objects.get(pk=case.pk).assignee == me


def test_take_button_on_the_case_page_posts_and_comes_back(client, team):
    me = team.people[0]
    case = CaseFactory(assignee=None, team=team, status=Status.NEW)
    client.force_login(me)
    assert 'data-testid="take"' in client.get(f"/cases/{case.pk}/").content.decode()
    response = client.post(f"/cases/{case.pk}/take/", {"version": case.version}, follow=True)
    assert "この案件の担当になりました" in response.content.decode()
    assert 'data-testid="take"' not in response.content.decode()  # mine now: no button
    assert client.post(f"/cases/{case.pk}/take/", {"version": "x"}, follow=True).status_code == 200  # bad input: no 500


def test_the_first_reply_by_an_agent_on_a_case_nobody_has_assigns_it_to_them(team):
    me, other = team.people[0], team.people[1]
    case = CaseFactory(assignee=None, team=team, status=Status.NEW)
    services.do_send_reply(case, actor=me, body="山田様\n\nご連絡ありがとうございます。")
    case.refresh_from_db()
    assert case.assignee == me and case.status == Status.OPEN
    assert AuditEvent.objects.filter(case=case, action="assigned", actor=me).exists()
    services.do_send_reply(case, actor=other, body="補足です。")
    case.refresh_from_db()
    assert case.assignee == me  # a later reply by someone else does not take it


def test_round_robin_skips_people_away_or_on_vacation(team):
    team.assignment_rule = AssignmentRule.ROUND_ROBIN
    team.save()
    first, second, third = team.people
    second.availability = Availability.AWAY
    second.save()
    got = [arrive(team).assignee for _ in range(4)]
    assert got == [first, third, first, third]
    assert all(case.status == Status.NEW for case in Case.objects.all())  # nobody answered yet
    assert AuditEvent.objects.filter(action="created", changes__assigned_by_rule="round_robin").count() == 4


def test_least_loaded_gives_the_case_to_whoever_has_the_fewest_open_cases(team):
    team.assignment_rule = AssignmentRule.LEAST_LOADED
    team.save()
    first, second, third = team.people
    for person, count in ((first, 3), (second, 1), (third, 2)):
        for _ in range(count):
            CaseFactory(assignee=person, team=team, status=Status.OPEN)
    CaseFactory.create_batch(5, assignee=second, team=team, status=Status.RESOLVED)  # done: not load
    assert arrive(team).assignee == second  # 1 open case
    assert arrive(team).assignee == second  # 2 and 2: on a tie, the lower id
    second.availability = Availability.VACATION
    second.save()
    assert arrive(team).assignee == third  # 2 against the first's 3; the second is on vacation


def test_no_rule_or_nobody_available_leaves_the_case_unassigned(team):
    assert arrive(team).assignee is None
    team.assignment_rule = AssignmentRule.ROUND_ROBIN
    team.save()
    for person in team.people:
        person.availability = Availability.AWAY
        person.save()
    team.lead.availability = Availability.AWAY
    team.lead.save()
    assert arrive(team).assignee is None


def test_agent_sets_status_in_the_top_bar_and_the_lead_sees_it(client, team):
    agent = team.people[0]
    client.force_login(agent)
    page = client.get("/").content.decode()
    assert 'data-testid="availability"' in page and "離席" in page and "休暇" in page
    response = client.post("/settings/me/availability/", {"availability": "away", "next": "/?queue=team"})
    assert response.status_code == 302 and response["Location"] == "/?queue=team"
    agent.refresh_from_db()
    assert agent.availability == Availability.AWAY
    assert client.post("/settings/me/availability/", {"availability": "sleeping", "next": "https://evil.example/"})["Location"] == "/"
    assert client.get("/settings/team/").status_code == 403  # an agent: not theirs
    CaseFactory(assignee=agent, team=team, status=Status.OPEN)
    client.force_login(team.lead)
    page = client.get("/settings/team/").content.decode()
    assert "田中 健太" in page and "離席" in page and "自動で割り当てない" in page


def test_admin_sets_a_teams_rule_on_the_settings_page_and_it_is_audited(client, team):
    admin = UserFactory(username="owner", role=Role.ADMIN)
    client.force_login(admin)
    assert "チームごとの自動割り当て" in client.get("/settings/").content.decode()
    response = client.post(f"/settings/teams/{team.pk}/assignment/", {f"team{team.pk}-assignment_rule": "least_loaded"})
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.assignment_rule == AssignmentRule.LEAST_LOADED
    change = SettingsChange.objects.get(target__contains="チーム")
    assert change.changes[0]["new"] == "対応中の案件が少ない人に割り当てる"
    bad = client.post(f"/settings/teams/{team.pk}/assignment/", {f"team{team.pk}-assignment_rule": "random"})
    assert bad.status_code == 400 and "正しく選択してください" in bad.content.decode()


def test_replies_other_than_a_persons_do_not_assign(team):
    case = CaseFactory(assignee=None, team=team, status=Status.NEW)
    services.do_add_interaction(case, actor=None, kind=InteractionKind.OUTBOUND, channel=Channel.EMAIL, body="自動受付のお知らせ")
    case.refresh_from_db()
    assert case.assignee is None and case.status == Status.NEW
