"""The right person hears of a case: a decision after a handover reaches whoever has the case now,
a customer's reply that reopens a case reaches its assignee (or the lead), and the inbox marks a
case the customer wrote on since staff last looked 「新着返信」 until the assignee opens it."""

from __future__ import annotations

import pytest

from madoguchi.accounts.models import AuthorityLimit, Role
from madoguchi.cases.models import Case, Compensation, Status
from madoguchi.mail.ingest import do_ingest_raw
from madoguchi.mail.models import OutboundKind, OutboundMessage
from madoguchi.mail.tests.helpers import japanese_mail
from madoguchi.notifications.models import Notification
from madoguchi.testing.factories import TeamFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_open", "huey_immediate")]

NEW_REPLY = 'data-testid="new-reply"'



@pytest.fixture
def team():
    AuthorityLimit.objects.create(role=Role.AGENT, max_compensation_yen=3000)
    team = TeamFactory(lead=UserFactory(role=Role.LEAD, display_name="佐藤 美穂"))
    team.agent = UserFactory(team=team, display_name="田中 健太")
    team.next_agent = UserFactory(team=team, display_name="鈴木 一郎")
    return team


def mail_in(raw: bytes, capture) -> Case:  # type: ignore[no-untyped-def]
    with capture(execute=True):
        row, _created = do_ingest_raw(raw, "smtp")
    row.refresh_from_db()
    return Case.objects.get(pk=row.case_id)


def reply_to(case: Case, body: str = "まだ届いていません。いつ届きますか。") -> bytes:
    ack = OutboundMessage.objects.get(case=case, kind=OutboundKind.ACK)
    return japanese_mail(subject="Re: 商品が届きません", headers={"In-Reply-To": ack.message_id}, body=body)


def hand_over(client, case: Case, to_user) -> None:  # type: ignore[no-untyped-def]
    case.refresh_from_db()
    response = client.post(f"/cases/{case.pk}/handover/", {
        "ho-version": str(case.version), "ho-to_user": str(to_user.pk), "ho-note": "返金の承認待ちです。承認されたらお客様へ連絡してください。",
    })
    assert response.status_code == 302


def inbox_row(client, case: Case, queue: str = "all") -> str:
    body = client.get(f"/?queue={queue}").content.decode()
    return body.split(f'href="/cases/{case.pk}/"', 1)[1].split("</tr>", 1)[0]


def test_a_decision_after_a_handover_reaches_the_current_assignee_and_the_requester(client, team, django_capture_on_commit_callbacks):
    case = mail_in(japanese_mail(), django_capture_on_commit_callbacks)
    client.force_login(team.agent)
    hand_over(client, case, team.agent)  # the agent takes the case
    client.post(f"/cases/{case.pk}/compensations/", {"cp-kind": "refund", "cp-amount_yen": "5000", "cp-reason": "配送遅延"})
    hand_over(client, case, team.next_agent)  # and goes on leave
    request = Compensation.objects.get(case=case)

    client.force_login(team.lead)
    assert client.post(f"/approvals/{request.pk}/", {"decision": "approve"}).status_code == 302
    told = set(Notification.objects.filter(kind="approval_decided").values_list("user", flat=True))
    assert told == {team.next_agent.pk, team.agent.pk}
    message = Notification.objects.get(kind="approval_decided", user=team.next_agent).text
    assert "5,000円が承認されました" in message


def test_a_customer_reply_that_reopens_a_resolved_case_tells_the_assignee(client, team, django_capture_on_commit_callbacks):
    case = mail_in(japanese_mail(), django_capture_on_commit_callbacks)
    Case.objects.filter(pk=case.pk).update(assignee=team.agent, status=Status.RESOLVED)
    mail_in(reply_to(case), django_capture_on_commit_callbacks)
    case.refresh_from_db()
    assert case.status == Status.OPEN
    told = Notification.objects.filter(kind="case_reopened", case=case)
    assert list(told.values_list("user", flat=True)) == [team.agent.pk]
    assert "お客様から返信があり、対応中に戻りました" in told.get().text
    client.force_login(team.agent)
    assert "対応中に戻りました" in client.get("/notifications/").content.decode()


def test_a_reopened_case_with_nobody_assigned_tells_the_team_lead(team, django_capture_on_commit_callbacks):
    case = mail_in(japanese_mail(), django_capture_on_commit_callbacks)
    assert case.team == team and case.assignee is None
    Case.objects.filter(pk=case.pk).update(status=Status.RESOLVED)
    mail_in(reply_to(case), django_capture_on_commit_callbacks)
    assert list(Notification.objects.filter(kind="case_reopened").values_list("user", flat=True)) == [team.lead.pk]


def test_the_inbox_marks_a_new_customer_reply_until_the_assignee_opens_the_case(client, team, django_capture_on_commit_callbacks):
    case = mail_in(japanese_mail(), django_capture_on_commit_callbacks)
    Case.objects.filter(pk=case.pk).update(assignee=team.agent, status=Status.WAITING_CUSTOMER)
    client.force_login(team.agent)
    assert NEW_REPLY not in inbox_row(client, case, "mine")  # a new case is 新規, not a reply

    mail_in(reply_to(case, "写真を添付します。箱が潰れていました。"), django_capture_on_commit_callbacks)
    row = inbox_row(client, case, "mine")
    assert NEW_REPLY in row and "新着返信" in row

    client.force_login(team.lead)  # somebody else looking leaves it for the assignee
    client.get(f"/cases/{case.pk}/")
    assert NEW_REPLY in inbox_row(client, case)

    client.force_login(team.agent)
    assert client.get(f"/cases/{case.pk}/").status_code == 200
    assert NEW_REPLY not in inbox_row(client, case, "mine")


def test_a_reply_from_staff_clears_the_mark(client, team, django_capture_on_commit_callbacks):
    case = mail_in(japanese_mail(), django_capture_on_commit_callbacks)
    mail_in(reply_to(case), django_capture_on_commit_callbacks)
    client.force_login(team.lead)  # not the assignee (nobody is): answers from the team queue
    assert NEW_REPLY in inbox_row(client, case)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/cases/{case.pk}/reply/", {"re-body": "ご連絡ありがとうございます。配送業者に確認いたします。"})
    assert NEW_REPLY not in inbox_row(client, case)
