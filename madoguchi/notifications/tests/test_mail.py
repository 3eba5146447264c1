"""Notifications by mail (issue 22 item 7): each kind reaches the person by a real SMTP server
(aiosmtpd) through the mail outbox, once, in their language, never about their own action,
and not at all when they turned the kind off; a burst is one digest."""

from __future__ import annotations

import datetime as dt
import email
from email.header import decode_header, make_header
from email.message import Message

import pytest
import time_machine
from django.utils import timezone

from madoguchi.accounts.models import AuthorityLimit, Role
from madoguchi.cases import services
from madoguchi.cases.models import InteractionKind, Status
from madoguchi.mail.models import OutboundKind, OutboundMessage, OutboundState
from madoguchi.mail.receivers import remind_commitments
from madoguchi.metrics import sla
from madoguchi.metrics.models import CaseSla
from madoguchi.metrics.survey import delay as survey_delay
from madoguchi.metrics.survey import do_answer, send_due_invitations, token_for
from madoguchi.notifications import mailing
from madoguchi.notifications.models import MailEvent, MailPreference
from madoguchi.notifications.services import do_notify
from madoguchi.testing.factories import (
    CommitmentFactory,
    IdentityFactory,
    TeamFactory,
    UserFactory,
    category,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db):
    AuthorityLimit.objects.create(role=Role.AGENT, max_compensation_yen=3000)
    AuthorityLimit.objects.create(role=Role.LEAD, max_compensation_yen=30000)
    lead = UserFactory(username="m-lead", role=Role.LEAD, display_name="佐藤 美穂", email="lead@shop.example.jp")
    team = TeamFactory(name="メール通知課", lead=lead)
    agent = UserFactory(username="m-agent", team=team, display_name="田中 健太", email="agent@shop.example.jp")
    other = UserFactory(username="m-other", team=team, display_name="鈴木 一郎", email="other@shop.example.jp")
    team.agent, team.other = agent, other
    return team


def received(sink) -> list[Message]:
    return [email.message_from_bytes(raw) for raw in sink.received]


def to(sink, address: str) -> list[Message]:
    return [m for m in received(sink) if address in m["To"]]


def subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def body(message: Message) -> str:
    return message.get_payload(decode=True).decode(message.get_content_charset() or "utf-8")


def new_case(team, assignee=None, channel="phone"):
    return services.do_create_case(actor=assignee or team.agent, customer=IdentityFactory().customer, subject="急須の蓋が割れていた",
                                   channel=channel, category=category("defect"), complaint="蓋が割れていました", assignee=assignee)


def test_handover_to_me_is_mailed_in_japanese_with_a_link_and_jst_time(people, smtp_sink, django_capture_on_commit_callbacks):
    case = new_case(people, assignee=people.other)
    case.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.do_hand_over(case, actor=people.other, expected_version=case.version, note="お客様は午後在宅", to_user=people.agent)
    [mail] = to(smtp_sink, "agent@shop.example.jp")
    assert subject(mail).startswith("【自分への引き継ぎ】") and case.number in subject(mail)
    text = body(mail)
    assert "鈴木 一郎さんから引き継ぎました" in text
    assert f"https://desk.example.jp/cases/{case.pk}/" in text
    assert timezone.localtime(timezone.now()).strftime("%Y/%m/%d") in text and "日本時間" in text
    assert mail["Auto-Submitted"] == "auto-generated"
    # Not the one who handed it over (their own action).
    assert not to(smtp_sink, "other@shop.example.jp")
    assert OutboundMessage.objects.get(kind=OutboundKind.STAFF).state == OutboundState.SENT


def test_approval_asked_goes_to_the_lead_and_the_decision_to_the_agent(people, smtp_sink, django_capture_on_commit_callbacks):
    case = new_case(people, assignee=people.agent)
    with django_capture_on_commit_callbacks(execute=True):
        comp = services.do_request_compensation(case, actor=people.agent, kind="refund", amount_yen=8000, reason="破損")
    [asked] = to(smtp_sink, "lead@shop.example.jp")
    assert subject(asked).startswith("【承認の依頼と結果（補償・返信）】") and "承認依頼" in body(asked) and "8,000円" in body(asked)
    assert not to(smtp_sink, "agent@shop.example.jp")  # their own request
    with django_capture_on_commit_callbacks(execute=True):
        services.do_decide_compensation(comp, actor=people.lead, approve=True)
    [decided] = to(smtp_sink, "agent@shop.example.jp")
    assert "承認されました" in body(decided)
    assert len(to(smtp_sink, "lead@shop.example.jp")) == 1  # not told of their own decision


def test_customer_replied_on_my_case(people, smtp_sink, django_capture_on_commit_callbacks):
    case = new_case(people, assignee=people.agent, channel="email")
    with django_capture_on_commit_callbacks(execute=True):
        services.do_add_interaction(case, actor=None, kind=InteractionKind.INBOUND, channel="email", body="まだですか？",
                                    occurred_at=timezone.now() + dt.timedelta(seconds=5))
    [mail] = to(smtp_sink, "agent@shop.example.jp")
    assert subject(mail).startswith("【担当案件へのお客様の返信】") and "お客様から新しいメッセージ" in body(mail)


def test_a_call_the_assignee_logs_is_their_own_action_and_not_mailed(people, smtp_sink, django_capture_on_commit_callbacks):
    case = new_case(people, assignee=people.agent)
    with django_capture_on_commit_callbacks(execute=True):
        services.do_add_interaction(case, actor=people.agent, kind=InteractionKind.INBOUND, channel="phone", body="お電話あり",
                                    occurred_at=timezone.now() + dt.timedelta(seconds=5))
        do_notify([people.agent], kind="handover", case=case, message="自分で自分に", actor=people.agent)
    assert not smtp_sink.received and not MailEvent.objects.exists()


def test_sla_about_to_breach(people, smtp_sink, django_capture_on_commit_callbacks):
    case = new_case(people, assignee=people.agent, channel="email")
    clocks = CaseSla.objects.get(case=case)
    with django_capture_on_commit_callbacks(execute=True):
        assert sla.check_sla(clocks.first_warn_at + dt.timedelta(seconds=1))["warnings"] == 1
    [mail] = to(smtp_sink, "agent@shop.example.jp")
    assert subject(mail).startswith("【SLA の期限が近い・超過した】") and "期限" in body(mail)


def test_promise_due_soon_and_overdue(people, smtp_sink, django_capture_on_commit_callbacks):
    case = new_case(people, assignee=people.agent)
    CommitmentFactory(case=case, owner=people.agent, description="配送業者に確認して折り返す",
                      due_at=timezone.now() + dt.timedelta(minutes=30))
    with django_capture_on_commit_callbacks(execute=True):
        assert remind_commitments() == 1
        assert remind_commitments() == 0  # the minute sweep again: no second mail
    [soon] = to(smtp_sink, "agent@shop.example.jp")
    assert subject(soon).startswith("【約束の期限が近い・過ぎた】") and "配送業者に確認して折り返す" in body(soon)

    CommitmentFactory(case=case, owner=people.agent, description="返金の手続き", due_at=timezone.now() - dt.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        services.escalate_overdue_commitments()
    lead_mail = to(smtp_sink, "lead@shop.example.jp")
    assert len(lead_mail) == 1 and "返金の手続き" in body(lead_mail[0]) and "過ぎています" in body(lead_mail[0])


def test_low_satisfaction_follow_up(people, smtp_sink, django_capture_on_commit_callbacks):
    case = services.do_create_case(actor=people.agent, customer=IdentityFactory().customer, subject="破損", channel="email",
                                   category=category("defect"), complaint="割れていました", assignee=people.agent)
    services.do_send_reply(case, actor=people.agent, body="申し訳ございません。")
    case.refresh_from_db()
    services.do_update_case(case, actor=people.agent, expected_version=case.version, changes={"status": Status.RESOLVED})
    with time_machine.travel(timezone.now() + survey_delay() + dt.timedelta(minutes=1)):
        assert send_due_invitations() == 1
    case.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        do_answer(token_for(case.survey), rating="1", nps="", comment="遅い")
    [mail] = to(smtp_sink, "lead@shop.example.jp")
    assert subject(mail).startswith("【満足度アンケートの低評価（フォロー）】") and "満足度1" in body(mail)


def test_a_kind_turned_off_is_not_mailed_but_still_shown_in_the_desk(people, smtp_sink, django_capture_on_commit_callbacks):
    MailPreference.objects.create(user=people.agent, handover=False)
    case = new_case(people, assignee=people.other)
    case.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.do_hand_over(case, actor=people.other, expected_version=case.version, note="午後はご在宅", to_user=people.agent)
    assert not smtp_sink.received and not MailEvent.objects.exists()
    assert people.agent.notifications.filter(kind="handover").exists()


def test_the_same_event_raised_twice_is_one_mail(people, smtp_sink, django_capture_on_commit_callbacks):
    case = new_case(people, assignee=people.agent)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            mailing.plan([people.agent], kind="promise", key="remind:42", case=case, message="%(case)s 同じ出来事", params={"case": case.number})
            mailing.send_due()
    assert len(to(smtp_sink, "agent@shop.example.jp")) == 1
    assert mailing.send_due() == 0  # the minute job finds nothing left


def test_an_english_user_gets_english_mail(people, smtp_sink, django_capture_on_commit_callbacks):
    MailPreference.objects.create(user=people.agent, language="en")
    case = new_case(people, assignee=people.other)
    case.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.do_hand_over(case, actor=people.other, expected_version=case.version, note="午後はご在宅", to_user=people.agent)
    [mail] = to(smtp_sink, "agent@shop.example.jp")
    assert subject(mail).startswith("[Handover to me]"), subject(mail)
    assert "handed over to you by 鈴木 一郎" in body(mail) and "Times are Japan time" in body(mail)
    assert body(mail).startswith("Hello 田中 健太,")


def test_a_burst_of_one_kind_is_the_first_mail_then_one_digest(people, smtp_sink, django_capture_on_commit_callbacks, settings):
    cases = [new_case(people, assignee=people.other) for _ in range(6)]
    for case in cases:
        case.refresh_from_db()
        with django_capture_on_commit_callbacks(execute=True):
            services.do_hand_over(case, actor=people.other, expected_version=case.version, note="午後はご在宅", to_user=people.agent)
    assert len(to(smtp_sink, "agent@shop.example.jp")) == 1  # the first at once; five wait for the window
    assert mailing.send_due() == 0  # not before the window ends
    with django_capture_on_commit_callbacks(execute=True):
        assert mailing.send_due(timezone.now() + mailing.digest_window() + dt.timedelta(seconds=1)) == 1
    first, digest = to(smtp_sink, "agent@shop.example.jp")
    assert "5件のお知らせ" in subject(digest)
    assert all(f"https://desk.example.jp/cases/{case.pk}/" in body(digest) for case in cases[1:])
    assert not MailEvent.objects.filter(mailed_at__isnull=True).exists()


def test_no_address_no_mail_and_nothing_waits(people, smtp_sink, django_capture_on_commit_callbacks):
    people.agent.email = ""
    people.agent.save()
    case = new_case(people, assignee=people.other)
    case.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.do_hand_over(case, actor=people.other, expected_version=case.version, note="午後はご在宅", to_user=people.agent)
    assert not smtp_sink.received and not MailEvent.objects.exists()


def test_the_daily_summary_comes_at_the_leads_time_once_a_day(people, smtp_sink, django_capture_on_commit_callbacks):
    from zoneinfo import ZoneInfo

    from madoguchi.notifications.summary import send_daily_summaries

    jst = ZoneInfo("Asia/Tokyo")
    new_case(people, assignee=people.agent)
    day = timezone.localtime().date()
    at = lambda hour, minute, days=0: dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=jst) + dt.timedelta(days=days)  # noqa: E731
    with django_capture_on_commit_callbacks(execute=True):
        assert send_daily_summaries(at(8, 59)) == 0  # the default time is 9:00 JST
        assert send_daily_summaries(at(9, 0)) == 1
        assert send_daily_summaries(at(9, 1)) == 0  # once a day
        assert send_daily_summaries(at(9, 0, days=1)) == 1  # and again the next day
    first = to(smtp_sink, "lead@shop.example.jp")[0]
    assert subject(first) == f"【毎日のまとめ】{day:%Y/%m/%d} の窓口"
    assert "【メール通知課】" in body(first) and "対応中の案件: 1件" in body(first)
    assert not to(smtp_sink, "agent@shop.example.jp")  # not a lead
    MailPreference.objects.filter(user=people.lead).update(daily_summary=False)
    assert send_daily_summaries(at(9, 0, days=2)) == 0
