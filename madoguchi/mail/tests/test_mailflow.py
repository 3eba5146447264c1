"""Mail like Re:lation (issue 22 item 5), through the desk's pages and over real SMTP (an aiosmtpd
sink that keeps the envelope): CC and BCC on a reply, a customer's reply-all keeping the thread,
the customer-visible contact address, approval of a new agent's reply, scheduled send, and the
settings behind them (bad input refused in Japanese with nothing lost, every change audited)."""

from __future__ import annotations

import datetime as dt
import email
from email.message import Message
from typing import Any

import pytest
from django.utils import timezone

from madoguchi.accounts.models import Role, SettingsChange, Team
from madoguchi.cases.models import AuditEvent, Interaction, InteractionKind
from madoguchi.mail import held
from madoguchi.mail.forms import next_business_morning
from madoguchi.mail.ingest import do_ingest_raw
from madoguchi.mail.models import (
    ApprovalRule,
    HeldReply,
    HeldState,
    Mailbox,
    OutboundKind,
    OutboundMessage,
    OutboundState,
)
from madoguchi.mail.tests.conftest import Sink, wait_for
from madoguchi.mail.tests.helpers import japanese_mail
from madoguchi.notifications.models import MailEvent, Notification
from madoguchi.testing.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_open")]


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox.objects.create(name="こもれび堂 カスタマーサポート", address="support@shop.example.jp", shop_name="こもれび堂")


@pytest.fixture
def team() -> Team:
    lead = UserFactory(username="lead", display_name="佐藤 リーダー", role=Role.LEAD, email="lead@shop.example.jp")
    team = Team.objects.create(name="お客様窓口", lead=lead)
    lead.team = team
    lead.save()
    return team


@pytest.fixture
def agent(team: Team) -> Any:
    return UserFactory(username="newbie", display_name="田中 新人", team=team, email="newbie@shop.example.jp")


def customer_case(capture: Any, mailbox: Mailbox, team: Team) -> Any:
    with capture(execute=True):
        row, _created = do_ingest_raw(japanese_mail(message_id="<first@example.jp>"), "smtp", mailbox)
    row.refresh_from_db()
    case = row.case
    case.team = team
    case.save(update_fields=["team"])
    return case


def reply_post(**extra: str) -> dict[str, str]:
    return {"re-body": "山田様、ご連絡ありがとうございます。本日発送いたします。", "mo-when": "now", **extra}


def mails(sink: Sink) -> list[tuple[list[str], Message]]:
    return [(rcpts, email.message_from_bytes(raw)) for rcpts, raw in sink.envelopes]


def test_cc_and_bcc_go_with_the_reply_bcc_only_in_the_envelope_and_the_timeline_shows_both(
        client, smtp_sink, mailbox, team, agent, django_capture_on_commit_callbacks) -> None:
    case = customer_case(django_capture_on_commit_callbacks, mailbox, team)
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/cases/{case.pk}/reply/", reply_post(**{
            "mo-cc": "husband@example.jp、 Shop.Manager@shop.example.jp", "mo-bcc": "quality@shop.example.jp"}))
    assert response.status_code == 302
    out = OutboundMessage.objects.get(case=case, kind=OutboundKind.REPLY)
    assert (out.cc, out.bcc, out.state) == ("husband@example.jp, Shop.Manager@shop.example.jp", "quality@shop.example.jp", OutboundState.SENT)
    [(rcpts, message)] = [m for m in mails(smtp_sink) if m[1]["Message-ID"] == out.message_id]
    assert sorted(rcpts) == sorted(["taro@example.jp", "husband@example.jp", "Shop.Manager@shop.example.jp", "quality@shop.example.jp"])
    assert message["Cc"] == "husband@example.jp, Shop.Manager@shop.example.jp"
    assert message["Bcc"] is None and b"quality@" not in smtp_sink.envelopes[-1][1]
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="mail-cc">husband@example.jp, Shop.Manager@shop.example.jp' in page
    assert 'data-testid="mail-bcc">quality@shop.example.jp' in page


@pytest.mark.parametrize("field,value,message", [
    ("mo-cc", "husband@example.jp\r\nBcc: spy@evil.example", "CC に改行は使えません"),
    ("mo-bcc", "quality at shop", "BCC の「quality」はメールアドレスとして正しくありません"),
    ("mo-cc", ",".join(f"p{i}@example.jp" for i in range(11)), "CC は10件までです"),
])
def test_a_bad_cc_or_bcc_is_refused_in_japanese_nothing_sent_and_the_reply_kept(
        client, smtp_sink, mailbox, team, agent, django_capture_on_commit_callbacks, field, value, message) -> None:
    case = customer_case(django_capture_on_commit_callbacks, mailbox, team)
    client.force_login(agent)
    response = client.post(f"/cases/{case.pk}/reply/", reply_post(**{field: value}))
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page and "返信はまだ送っていません" in page
    assert "本日発送いたします。</textarea>" in page  # the reply as typed
    assert not Interaction.objects.filter(case=case, kind=InteractionKind.OUTBOUND).exists()
    assert not OutboundMessage.objects.filter(kind=OutboundKind.REPLY).exists()


def test_the_customers_reply_all_with_cc_joins_the_same_case(
        client, smtp_sink, mailbox, team, agent, django_capture_on_commit_callbacks) -> None:
    case = customer_case(django_capture_on_commit_callbacks, mailbox, team)
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/cases/{case.pk}/reply/", reply_post(**{"mo-cc": "husband@example.jp"}))
    ours = OutboundMessage.objects.get(kind=OutboundKind.REPLY)
    answer = japanese_mail(subject=f"Re: {ours.subject}", body="ありがとうございます。夫にも共有しました。",
                           headers={"In-Reply-To": ours.message_id, "References": f"<first@example.jp> {ours.message_id}",
                                    "Cc": "husband@example.jp, support@shop.example.jp"})
    with django_capture_on_commit_callbacks(execute=True):
        row, _created = do_ingest_raw(answer, "smtp", mailbox)
    row.refresh_from_db()
    assert row.case_id == case.pk
    assert case.interactions.filter(kind=InteractionKind.INBOUND).count() == 2


def test_the_contact_address_set_on_the_settings_page_is_the_reply_to_of_replies_audited(
        client, smtp_sink, mailbox, team, agent, django_capture_on_commit_callbacks) -> None:
    admin = UserFactory(username="owner", role=Role.ADMIN)
    client.force_login(admin)
    prefix = f"mb{mailbox.pk}"
    base = {f"{prefix}-name": mailbox.name, f"{prefix}-shop_name": "こもれび堂", f"{prefix}-signature": "",
            f"{prefix}-approval": "flagged"}
    refused = client.post(f"/settings/mailbox/{mailbox.pk}/", {**base, f"{prefix}-name": "こもれび堂 窓口",
                                                               f"{prefix}-contact_address": "info@@komorebi"})
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "連絡先アドレスがメールアドレスとして正しくありません" in page and 'value="こもれび堂 窓口"' in page
    mailbox.refresh_from_db()
    assert mailbox.contact_address == "" and mailbox.name == "こもれび堂 カスタマーサポート"
    assert not SettingsChange.objects.exists()

    response = client.post(f"/settings/mailbox/{mailbox.pk}/", {**base, f"{prefix}-contact_address": "info@komorebi.example.jp"})
    assert response.status_code == 302
    change = SettingsChange.objects.get(actor=admin)
    assert change.changes == [{"field": "contact_address", "label": "お客様に見せる連絡先アドレス", "old": "",
                               "new": "info@komorebi.example.jp"}]

    case = customer_case(django_capture_on_commit_callbacks, mailbox, team)
    client.force_login(agent)
    assert "お客様への返信先（Reply-To）: info@komorebi.example.jp" in client.get(f"/cases/{case.pk}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/cases/{case.pk}/reply/", reply_post())
    out = OutboundMessage.objects.get(kind=OutboundKind.REPLY)
    [(_rcpts, message)] = [m for m in mails(smtp_sink) if m[1]["Message-ID"] == out.message_id]
    assert message["Reply-To"] == "info@komorebi.example.jp"
    assert "support@shop.example.jp" in message["From"]
    ack = [m for _r, m in mails(smtp_sink) if m["Auto-Submitted"] == "auto-replied"]
    assert ack and all(m["Reply-To"] == "info@komorebi.example.jp" for m in ack)


def test_a_new_agents_reply_waits_for_the_lead_who_returns_it_then_approves_it_and_it_is_sent_once(
        client, smtp_sink, mailbox, team, agent, django_capture_on_commit_callbacks) -> None:
    admin = UserFactory(username="owner", role=Role.ADMIN)
    client.force_login(admin)
    response = client.post(f"/settings/users/{agent.pk}/", {
        "display_name": agent.display_name, "email": agent.email, "role": "agent", "team": team.pk, "replies_need_approval": "on"})
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.replies_need_approval
    assert SettingsChange.objects.get(actor=admin).changes[0]["label"] == "返信に承認が必要"
    assert 'data-testid="needs-approval"' in client.get("/settings/users/").content.decode()

    case = customer_case(django_capture_on_commit_callbacks, mailbox, team)
    client.force_login(agent)
    assert "リーダーが承認してから送信されます" in client.get(f"/cases/{case.pk}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/cases/{case.pk}/reply/", reply_post(**{"mo-cc": "husband@example.jp"}))
    assert response.status_code == 302
    row = HeldReply.objects.get()
    assert (row.state, row.cc, row.author) == (HeldState.AWAITING, "husband@example.jp", agent)
    assert not Interaction.objects.filter(case=case, kind=InteractionKind.OUTBOUND).exists()
    assert not OutboundMessage.objects.filter(kind=OutboundKind.REPLY).exists()
    lead = team.lead
    asked = Notification.objects.get(user=lead, kind="reply_approval")
    assert "田中 新人さんの返信が承認を待っています" in asked.text
    assert MailEvent.objects.filter(user=lead).exists()  # mailed as the 「承認」 kind

    # Another agent cannot decide it; the lead returns it with a comment (required).
    client.force_login(UserFactory(username="other", team=team))
    assert "承認を待っている返信はありません" in client.get("/mail/approvals/").content.decode()
    client.force_login(lead)
    listing = client.get("/mail/approvals/").content.decode()
    assert "本日発送いたします。" in listing and "husband@example.jp" in listing
    empty = client.post(f"/mail/held/{row.pk}/return/", {f"rt{row.pk}-comment": "  ", f"rt{row.pk}-version": row.version})
    assert empty.status_code == 400 and "差し戻す理由" in empty.content.decode()
    response = client.post(f"/mail/held/{row.pk}/return/", {f"rt{row.pk}-comment": "お詫びの一文を先に入れてください。",
                                                            f"rt{row.pk}-version": row.version})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.state == HeldState.RETURNED
    assert "差し戻されました。コメント: お詫びの一文を先に入れてください。" in Notification.objects.get(user=agent).text

    # The agent edits and resubmits: waiting again.
    client.force_login(agent)
    assert "お詫びの一文を先に入れてください。" in client.get(f"/cases/{case.pk}/").content.decode()
    response = client.post(f"/mail/held/{row.pk}/", {
        f"hr{row.pk}-body": "山田様、ご迷惑をおかけし申し訳ございません。本日発送いたします。", f"hr{row.pk}-cc": "husband@example.jp",
        f"hr{row.pk}-when": "now", f"hr{row.pk}-version": row.version})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.state == HeldState.AWAITING and row.body.startswith("山田様、ご迷惑をおかけし")
    assert held.may_decide(agent, row) is False  # nobody approves their own

    client.force_login(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/mail/held/{row.pk}/approve/", {"version": row.version})
    assert response.status_code == 302
    again = client.post(f"/mail/held/{row.pk}/approve/", {"version": row.version})  # a second click
    assert again.status_code == 302
    row.refresh_from_db()
    assert row.state == HeldState.SENT and row.approved_by == lead
    reply = Interaction.objects.get(case=case, kind=InteractionKind.OUTBOUND)
    assert reply.author == agent and reply.body.startswith("山田様、ご迷惑をおかけし") and row.interaction == reply
    out = OutboundMessage.objects.get(kind=OutboundKind.REPLY)
    wait_for(lambda: OutboundMessage.objects.get(pk=out.pk).state == OutboundState.SENT)
    assert len([m for _r, m in mails(smtp_sink) if m["Message-ID"] == out.message_id]) == 1
    assert "承認され、送信されました" in Notification.objects.filter(user=agent).order_by("-pk")[0].text
    actions = list(AuditEvent.objects.filter(case=case).values_list("action", flat=True))
    assert {"reply_held", "reply_returned", "reply_held_edited", "reply_approved"} <= set(actions)


def test_a_held_reply_is_not_approved_unseen_after_someone_else_replied_to_the_customer(
        client, smtp_sink, mailbox, team, agent, django_capture_on_commit_callbacks) -> None:
    """Two answers to one customer: the new agent's reply waits for approval while a colleague
    answers the customer. The lead's approval from a page shown before that answer is refused
    (nothing sent); the approvals page then shows the colleague's reply, and approving from it
    sends once."""
    agent.replies_need_approval = True
    agent.save()
    case = customer_case(django_capture_on_commit_callbacks, mailbox, team)
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/cases/{case.pk}/reply/", reply_post())
    row = HeldReply.objects.get()
    lead = team.lead
    client.force_login(lead)
    before = client.get("/mail/approvals/").content.decode()
    assert 'data-testid="replies-since"' not in before and 'name="seen" value="0"' in before

    colleague = UserFactory(username="senior", display_name="鈴木 先輩", team=team)
    client.force_login(colleague)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/cases/{case.pk}/reply/", {"re-body": "鈴木です。交換品を本日発送いたしました。"}).status_code == 302
    theirs = Interaction.objects.get(case=case, kind=InteractionKind.OUTBOUND, author=colleague)

    client.force_login(lead)
    refused = client.post(f"/mail/held/{row.pk}/approve/", {"version": row.version, "seen": "0"}, follow=True)
    assert "鈴木 先輩さんがお客様へ返信しています" in refused.content.decode()
    row.refresh_from_db()
    assert row.state == HeldState.AWAITING
    assert not Interaction.objects.filter(case=case, kind=InteractionKind.OUTBOUND, author=agent).exists()

    listing = client.get("/mail/approvals/").content.decode()
    assert 'data-testid="replies-since"' in listing and "交換品を本日発送いたしました" in listing
    assert f'name="seen" value="{theirs.pk}"' in listing
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/mail/held/{row.pk}/approve/", {"version": row.version, "seen": str(theirs.pk)})
    row.refresh_from_db()
    assert row.state == HeldState.SENT
    assert Interaction.objects.filter(case=case, kind=InteractionKind.OUTBOUND, author=agent).count() == 1


def test_the_mailbox_can_ask_approval_for_every_agent_but_not_for_leads(mailbox, team, agent) -> None:
    mailbox.approval = ApprovalRule.AGENTS
    assert held.needs_approval(agent, mailbox)
    assert not held.needs_approval(team.lead, mailbox)
    mailbox.approval = ApprovalRule.NONE
    agent.replies_need_approval = True
    assert not held.needs_approval(agent, mailbox)


def test_a_scheduled_reply_waits_until_its_time_can_be_changed_or_cancelled_and_goes_once(
        client, smtp_sink, mailbox, team, agent, django_capture_on_commit_callbacks) -> None:
    case = customer_case(django_capture_on_commit_callbacks, mailbox, team)
    client.force_login(agent)
    past = client.post(f"/cases/{case.pk}/reply/", reply_post(**{"mo-when": "at", "mo-send_at": "2020-01-01T09:00"}))
    assert past.status_code == 400 and "送信日時が過去になっています" in past.content.decode()
    missing = client.post(f"/cases/{case.pk}/reply/", reply_post(**{"mo-when": "at"}))
    assert missing.status_code == 400 and "送信する日時を入力してください" in missing.content.decode()

    when = (timezone.localtime() + dt.timedelta(days=1)).replace(hour=10, minute=30, second=0, microsecond=0)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/cases/{case.pk}/reply/", reply_post(**{
            "mo-when": "at", "mo-send_at": when.strftime("%Y-%m-%dT%H:%M"), "mo-bcc": "quality@shop.example.jp"}))
    assert response.status_code == 302
    row = HeldReply.objects.get()
    assert (row.state, row.send_at) == (HeldState.SCHEDULED, when)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="held-send-at">' + when.strftime("%Y/%m/%d %H:%M") in page

    assert held.release_due(now=when - dt.timedelta(minutes=1)) == 0
    assert not OutboundMessage.objects.filter(kind=OutboundKind.REPLY).exists()

    # Moved one hour later: the old time no longer sends it.
    later = when + dt.timedelta(hours=1)
    response = client.post(f"/mail/held/{row.pk}/", {
        f"hr{row.pk}-body": row.body, f"hr{row.pk}-bcc": row.bcc, f"hr{row.pk}-when": "at",
        f"hr{row.pk}-send_at": later.strftime("%Y-%m-%dT%H:%M"), f"hr{row.pk}-version": row.version})
    assert response.status_code == 302
    assert held.release_due(now=when + dt.timedelta(minutes=5)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert held.release_due(now=later) == 1
    assert held.release_due(now=later + dt.timedelta(minutes=1)) == 0  # the sweep again: nothing twice
    assert held.release(row.pk, now=later) is False
    out = OutboundMessage.objects.get(kind=OutboundKind.REPLY)
    assert out.bcc == "quality@shop.example.jp" and out.state == OutboundState.SENT
    assert Interaction.objects.filter(case=case, kind=InteractionKind.OUTBOUND).count() == 1

    # A second one, cancelled before its time: never sent.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/cases/{case.pk}/reply/", reply_post(**{"mo-when": "at", "mo-send_at": when.strftime("%Y-%m-%dT%H:%M")}))
    second = HeldReply.objects.exclude(pk=row.pk).get()
    assert client.post(f"/mail/held/{second.pk}/cancel/").status_code == 302
    assert held.release_due(now=when + dt.timedelta(days=1)) == 0
    second.refresh_from_db()
    assert second.state == HeldState.CANCELLED
    assert Interaction.objects.filter(case=case, kind=InteractionKind.OUTBOUND).count() == 1


def test_next_business_morning_skips_the_weekend_and_closed_days(settings) -> None:
    from madoguchi.businesshours.calendar import forget
    from madoguchi.businesshours.models import CalendarOptions, ClosedDay, WeeklyHours

    WeeklyHours.objects.all().delete()
    for weekday in range(5):
        WeeklyHours.objects.create(weekday=weekday, opens=dt.time(9, 0), closes=dt.time(18, 0))
    CalendarOptions.objects.update_or_create(pk=1, defaults={"closed_on_public_holidays": True})
    ClosedDay.objects.create(name="棚卸し", month=12, day=14, year=2026)
    forget()
    friday = timezone.make_aware(dt.datetime(2026, 12, 11, 16, 0))
    assert timezone.localtime(next_business_morning(friday)) == timezone.make_aware(dt.datetime(2026, 12, 15, 9, 0))
    forget()
