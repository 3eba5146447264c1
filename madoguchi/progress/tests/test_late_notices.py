"""The late-promise notice: prepared by the worker when a promise to the customer will be late,
never sent without a person's approval, never twice for one promise."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from madoguchi.accounts.models import Role
from madoguchi.cases import services as case_services
from madoguchi.cases.models import Channel, Commitment, Interaction, InteractionKind, Status
from madoguchi.customers.models import Identity, IdentityKind
from madoguchi.mail.models import OutboundMessage
from madoguchi.notifications.models import Notification
from madoguchi.progress import services
from madoguchi.progress.models import LateNotice, NoticeState
from madoguchi.testing.factories import CaseFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(shop_open):
    lead = UserFactory(role=Role.LEAD, display_name="佐藤 美穂")
    team = TeamFactory(lead=lead)
    team.agent = UserFactory(team=team, display_name="田中 健太")
    team.other = UserFactory(team=team, display_name="鈴木 一郎")
    return team


@pytest.fixture
def case(team):
    case = CaseFactory(assignee=team.agent, team=team, status=Status.OPEN, channel=Channel.EMAIL)
    Identity.objects.create(customer=case.customer, kind=IdentityKind.EMAIL, value="yamada@example.jp")
    return case


def promise(case, actor, hours_left: float, made_hours_ago: float = 24, **kwargs) -> Commitment:
    commitment = case_services.do_add_commitment(case, actor=actor, description="交換品の発送日をご連絡します",
                                                 due_at=timezone.now() + dt.timedelta(hours=max(hours_left, 1)), **kwargs)
    Commitment.objects.filter(pk=commitment.pk).update(
        due_at=timezone.now() + dt.timedelta(hours=hours_left),
        created_at=timezone.now() - dt.timedelta(hours=made_hours_ago))
    commitment.refresh_from_db()
    return commitment


def test_a_promise_about_to_be_late_gets_a_draft_and_the_agent_is_told(case, team):
    commitment = promise(case, team.agent, hours_left=2)
    assert services.prepare_late_notices() == 1
    notice = LateNotice.objects.get()
    assert notice.commitment == commitment and notice.state == NoticeState.DRAFT
    assert "お約束の日時に間に合わない見込みとなりました" in notice.body
    assert "大変申し訳ございません" in notice.body and services.NEW_TIME in notice.body
    assert "/status/" in notice.body
    assert notice.new_due_at is not None and notice.new_due_at > commitment.due_at
    told = Notification.objects.filter(kind="late_notice")
    assert list(told.values_list("user", flat=True)) == [team.agent.pk]
    # Nothing went to the customer.
    assert not Interaction.objects.filter(case=case, kind=InteractionKind.OUTBOUND).exists()
    assert not OutboundMessage.objects.filter(case=case).exclude(kind="staff").exists()


def test_prepared_once_however_often_the_job_runs(case, team):
    promise(case, team.agent, hours_left=2)
    assert services.prepare_late_notices() == 1
    assert services.prepare_late_notices() == 0
    assert LateNotice.objects.count() == 1 and Notification.objects.filter(kind="late_notice").count() == 1
    notice = LateNotice.objects.get()
    services.do_dismiss_late_notice(notice, actor=team.agent)
    assert services.prepare_late_notices(now=timezone.now() + dt.timedelta(hours=5)) == 0


def test_no_draft_for_internal_kept_far_or_just_made_promises_nor_closed_cases(case, team):
    promise(case, team.agent, hours_left=2, internal=True)
    kept = promise(case, team.agent, hours_left=2)
    case_services.do_close_commitment(kept, actor=team.agent, kept=True)
    promise(case, team.agent, hours_left=30)  # far from due
    promise(case, team.agent, hours_left=2, made_hours_ago=0.5)  # an hour's promise made just now
    resolved = CaseFactory(assignee=team.agent, team=team, status=Status.RESOLVED)
    promise(resolved, team.agent, hours_left=1)
    assert services.prepare_late_notices() == 0
    assert not LateNotice.objects.exists()


def test_a_promise_already_past_due_gets_a_draft(case, team):
    promise(case, team.agent, hours_left=-3)
    assert services.prepare_late_notices() == 1


def test_the_agent_approves_in_one_click_and_it_goes_out_by_mail_once(client, case, team, django_capture_on_commit_callbacks):
    commitment = promise(case, team.agent, hours_left=2)
    services.prepare_late_notices()
    notice = LateNotice.objects.get()
    client.force_login(team.agent)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "遅れのお知らせ（承認待ち）" in page and "承認してお客様に送る" in page
    new_due = timezone.localtime(timezone.now() + dt.timedelta(days=2)).replace(hour=15, minute=0, second=0, microsecond=0)
    form = {f"ln{notice.pk}-new_due_at": new_due.strftime("%Y-%m-%dT%H:%M"), f"ln{notice.pk}-body": notice.body}
    response = client.post(f"/progress/notices/{notice.pk}/send/", form, follow=True)
    assert "遅れのお知らせをお客様に送りました。" in response.content.decode()
    notice.refresh_from_db()
    assert notice.state == NoticeState.SENT and notice.decided_by == team.agent
    reply = Interaction.objects.get(case=case, kind=InteractionKind.OUTBOUND)
    assert f"新しいご連絡の予定: {services.jst(new_due)}" in reply.body and services.NEW_TIME not in reply.body
    assert f"{new_due.month:02d}月{new_due.day:02d}日" in reply.body and "15:00" in reply.body
    mail = OutboundMessage.objects.get(interaction=reply)
    assert mail.to_address == "yamada@example.jp"
    # A second click (another tab, a double submit) sends nothing more.
    response = client.post(f"/progress/notices/{notice.pk}/send/", form, follow=True)
    assert "すでに送信したか" in response.content.decode()
    assert Interaction.objects.filter(case=case, kind=InteractionKind.OUTBOUND).count() == 1
    # The customer's page shows the new time next to the first one.
    body = client.get(f"/status/{services.token_for(services.live_link(case))}/").content.decode()
    assert "予定を変更いたしました" in body and "当初の予定" in body
    assert commitment.description in body


def test_who_may_send_or_set_aside_a_notice(client, case, team):
    owner = UserFactory(team=team, display_name="伊藤 さくら")
    promise(case, team.agent, hours_left=2, owner=owner)
    services.prepare_late_notices()
    notice = LateNotice.objects.get()
    future = timezone.now() + dt.timedelta(days=1)
    with pytest.raises(case_services.CaseError, match="担当者、約束の担当者、チームのリーダー、管理者"):
        services.do_send_late_notice(notice, actor=team.other, new_due_at=future, body=notice.body)
    with pytest.raises(case_services.CaseError):
        services.do_dismiss_late_notice(notice, actor=team.other)
    other_lead = UserFactory(role=Role.LEAD)
    TeamFactory(lead=other_lead)
    with pytest.raises(case_services.CaseError):
        services.do_send_late_notice(notice, actor=other_lead, new_due_at=future, body=notice.body)
    client.force_login(team.other)
    response = client.post(f"/progress/notices/{notice.pk}/send/", {
        f"ln{notice.pk}-new_due_at": timezone.localtime(future).strftime("%Y-%m-%dT%H:%M"), f"ln{notice.pk}-body": notice.body,
    }, follow=True)
    assert "遅れのお知らせを送れるのは" in response.content.decode()
    assert LateNotice.objects.get().state == NoticeState.DRAFT
    assert services.may_decide(owner, notice) and services.may_decide(team.lead, notice)
    services.do_send_late_notice(notice, actor=owner, new_due_at=future, body=notice.body)
    assert LateNotice.objects.get().state == NoticeState.SENT


def test_bad_input_is_a_japanese_message_and_nothing_is_sent(client, case, team):
    promise(case, team.agent, hours_left=2)
    services.prepare_late_notices()
    notice = LateNotice.objects.get()
    client.force_login(team.agent)
    for new_due, body, message in [
        ("", notice.body, "このフィールドは必須です"),
        ("明日の夕方", notice.body, "日時を正しく入力してください"),
        (timezone.localtime(timezone.now() - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"), notice.body, "過去の日時"),
        (timezone.localtime(timezone.now() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"), "   ", "このフィールドは必須です"),
    ]:
        response = client.post(f"/progress/notices/{notice.pk}/send/",
                               {f"ln{notice.pk}-new_due_at": new_due, f"ln{notice.pk}-body": body}, follow=True)
        assert response.status_code == 200
        assert message in response.content.decode(), message
    assert LateNotice.objects.get().state == NoticeState.DRAFT
    assert not Interaction.objects.filter(case=case, kind=InteractionKind.OUTBOUND).exists()
    assert client.post("/progress/notices/999999/send/", {}).status_code == 404


def test_the_queue_shows_the_notices_waiting_for_me(client, case, team):
    promise(case, team.agent, hours_left=2)
    services.prepare_late_notices()
    client.force_login(team.agent)
    assert "お客様への遅れのお知らせが 1 件、承認を待っています。" in client.get("/").content.decode()
    assert "交換品の発送日をご連絡します" in client.get("/progress/notices/").content.decode()
    client.force_login(team.other)
    assert "承認を待っています" not in client.get("/").content.decode()
    client.force_login(team.lead)
    assert "交換品の発送日をご連絡します" in client.get("/progress/notices/").content.decode()


def test_a_phone_case_records_the_notice_and_tells_the_agent_to_call(client, team):
    case = CaseFactory(assignee=team.agent, team=team, status=Status.OPEN, channel=Channel.PHONE)
    promise(case, team.agent, hours_left=2)
    services.prepare_late_notices()
    notice = LateNotice.objects.get()
    client.force_login(team.agent)
    response = client.post(f"/progress/notices/{notice.pk}/send/", {
        f"ln{notice.pk}-new_due_at": timezone.localtime(timezone.now() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        f"ln{notice.pk}-body": notice.body}, follow=True)
    assert "お電話などでお伝えください" in response.content.decode()


def test_the_notices_waiting_for_someone_are_those_still_meaningful(case, team):
    """Counted on every inbox page: the assignee's while the case is active, the promise owner's
    while the promise is open, the lead's for the team's active cases; another agent's never;
    an admin sees all."""
    other_case = CaseFactory(assignee=team.other, team=team, status=Status.OPEN, channel=Channel.EMAIL)
    mine, owned, theirs = promise(case, team.agent, 2), promise(other_case, team.agent, 2), promise(other_case, team.other, 2)
    assert services.prepare_late_notices() == 3
    admin = UserFactory(role=Role.ADMIN)
    outsider = UserFactory(role=Role.LEAD)

    def waiting(user):
        return set(services.drafts_of(user).values_list("commitment_id", flat=True))

    assert waiting(team.agent) == {mine.pk, owned.pk}
    assert waiting(team.other) == {owned.pk, theirs.pk}
    assert waiting(team.lead) == waiting(admin) == {mine.pk, owned.pk, theirs.pk}
    assert waiting(outsider) == set()
    # The case settled: its notice waits only for the promise's owner while the promise is open.
    Commitment.objects.filter(pk=mine.pk).update(owner=team.other)
    type(case).objects.filter(pk=case.pk).update(status=Status.RESOLVED)
    assert waiting(team.agent) == {owned.pk}
    assert waiting(team.other) == {mine.pk, owned.pk, theirs.pk}
    Commitment.objects.filter(pk=mine.pk).update(state="kept")
    assert waiting(team.other) == {owned.pk, theirs.pk}


def test_the_count_on_every_inbox_page_joins_no_draft_to_its_case(case, team):
    """The drafts are checked against the person's own cases and promises: a join of every
    draft with its case and its promise took 65 ms at 1,000,000 cases."""
    for user in (team.agent, team.lead):
        assert "JOIN" not in str(services.drafts_of(user).query)


def test_the_count_reads_the_persons_active_cases_from_their_partial_index(case, team):
    """With `status IN` bound as parameters SQLite cannot match the partial index of active
    cases and walked every case the agent ever had: 40 ms of each inbox page at 1,000,000
    cases. On PostgreSQL the planner matches the predicate either way."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's partial-index matching")
    sql, params = services.drafts_of(team.agent).values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " / ".join(str(row[-1]) for row in cursor.fetchall())
    assert "USING INDEX case_active_assignee" in plan, plan


def test_literal_in_takes_code_constants_only():
    from madoguchi.cases.models import Case

    with pytest.raises(ValueError):
        str(Case.objects.filter(status__literal_in=["open'); DROP TABLE cases_case; --"]).query)
