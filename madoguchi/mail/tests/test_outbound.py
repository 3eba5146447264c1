"""Outbound mail over real SMTP (an aiosmtpd sink), read back to check what clients see."""

from __future__ import annotations

import datetime as dt
import email

import pytest
from django.utils import timezone

from madoguchi.accounts.models import Role
from madoguchi.cases.models import InteractionKind
from madoguchi.cases.services import do_add_interaction, do_send_reply, escalate_overdue_commitments
from madoguchi.mail.charsets import decode_iso2022jp
from madoguchi.mail.ingest import do_ingest_raw
from madoguchi.mail.models import (
    Charset,
    Mailbox,
    OutboundKind,
    OutboundMessage,
    OutboundState,
    RawMessage,
)
from madoguchi.mail.outbound import send_due, send_outbound
from madoguchi.mail.parsing import parse_message
from madoguchi.mail.receivers import remind_commitments
from madoguchi.mail.tests.conftest import free_port
from madoguchi.mail.tests.helpers import japanese_mail
from madoguchi.testing.factories import CommitmentFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_open")]


@pytest.fixture
def agent():  # type: ignore[no-untyped-def]
    return UserFactory(username="mail-agent", email="agent@shop.example.jp")


def incoming_case(capture, **kwargs):  # type: ignore[no-untyped-def]
    with capture(execute=True):
        row, _created = do_ingest_raw(japanese_mail(message_id="<customer-1@example.jp>", **kwargs), "smtp", kwargs.pop("mailbox", None))
    row.refresh_from_db()
    return row


def reply(case, agent, capture, body="ご不便をおかけして申し訳ございません。①本日発送いたします。"):  # type: ignore[no-untyped-def]
    with capture(execute=True):
        interaction = do_send_reply(case, actor=agent, body=body)
    return OutboundMessage.objects.get(interaction=interaction)


def sent_to(sink, message_id: str) -> list[email.message.Message]:
    found = [email.message_from_bytes(raw) for raw in sink.received]
    return [m for m in found if m["Message-ID"] == message_id]


def test_reply_is_sent_from_the_shop_with_threading_headers(smtp_sink, agent, django_capture_on_commit_callbacks) -> None:
    Mailbox.objects.create(name="窓口ショップ", address="support@shop.example.jp")
    row = incoming_case(django_capture_on_commit_callbacks)
    out = reply(row.case, agent, django_capture_on_commit_callbacks)
    assert out.state == OutboundState.SENT and out.attempts == 1
    [message] = sent_to(smtp_sink, out.message_id)
    parsed = parse_message(message.as_bytes())
    assert parsed.from_address == "support@shop.example.jp" and parsed.from_name == "窓口ショップ"
    assert message["To"] == "taro@example.jp"
    assert message["In-Reply-To"] == "<customer-1@example.jp>"
    assert "<customer-1@example.jp>" in message["References"]
    assert parsed.subject == f"Re: 商品が届きません [#{row.case_id}]"
    assert "①本日発送いたします" in parsed.text
    assert message.get_content_charset() == "utf-8"
    assert message["Auto-Submitted"] is None  # a person wrote it


def test_customer_reply_to_our_mail_joins_the_same_case(smtp_sink, agent, django_capture_on_commit_callbacks) -> None:
    row = incoming_case(django_capture_on_commit_callbacks)
    out = reply(row.case, agent, django_capture_on_commit_callbacks)
    answer = japanese_mail(subject="Re: 全然違う件名", sender="Taro@example.jp", headers={"In-Reply-To": out.message_id},
                           body="ありがとうございます。\n\n2026年11月23日(月) 10:00 窓口 <support@shop.example.jp>:\n> ご不便をおかけして")
    with django_capture_on_commit_callbacks(execute=True):
        second, _created = do_ingest_raw(answer, "smtp")
    second.refresh_from_db()
    assert second.case_id == row.case_id and second.interaction.body == "ありがとうございます。"


def test_replies_go_only_to_the_case_customers_own_address(smtp_sink, agent, django_capture_on_commit_callbacks) -> None:
    """Even if a stranger's mail were on the case (written before the threading rule, or moved
    there by hand), the staff's reply goes to the customer's own address."""
    row = incoming_case(django_capture_on_commit_callbacks, subject="返品について")
    with django_capture_on_commit_callbacks(execute=True):
        stranger, _created = do_ingest_raw(japanese_mail(subject=f"[#{row.case_id}] 返品について", sender="attacker@evil.example"), "smtp")
    stranger.refresh_from_db()
    assert stranger.case_id != row.case_id
    RawMessage.objects.filter(pk=stranger.pk).update(case=row.case)  # the worst case: on the customer's case anyway
    out = reply(row.case, agent, django_capture_on_commit_callbacks)
    assert out.to_address == "taro@example.jp"
    [message] = sent_to(smtp_sink, out.message_id)
    assert message["To"] == "taro@example.jp"


def test_reply_goes_to_the_customers_latest_own_address(smtp_sink, agent, django_capture_on_commit_callbacks) -> None:
    from madoguchi.customers.models import Identity

    row = incoming_case(django_capture_on_commit_callbacks)
    Identity.objects.create(customer=row.case.customer, kind="email", value="taro.work@company.example.jp")
    with django_capture_on_commit_callbacks(execute=True):
        do_ingest_raw(japanese_mail(subject=f"Re: [#{row.case_id}]", sender="Taro.Work@company.example.jp", body="会社から"), "smtp")
    out = reply(row.case, agent, django_capture_on_commit_callbacks)
    assert out.to_address.lower() == "taro.work@company.example.jp"


def test_iso2022jp_mailbox_keeps_windows_characters(smtp_sink, agent, django_capture_on_commit_callbacks) -> None:
    mailbox = Mailbox.objects.create(name="髙島屋㈱ 窓口", address="support@shop.example.jp", charset=Charset.ISO2022JP)
    with django_capture_on_commit_callbacks(execute=True):
        row, _created = do_ingest_raw(japanese_mail(message_id="<jis@example.jp>"), "smtp", mailbox)
    row.refresh_from_db()
    out = reply(row.case, agent, django_capture_on_commit_callbacks, body="①②㈱Ⅳ～の件、承知しました。")
    [message] = sent_to(smtp_sink, out.message_id)
    assert message.get_content_charset() == "iso-2022-jp"
    payload = message.get_payload(decode=True)
    assert payload.isascii() and decode_iso2022jp(payload).strip() == "①②㈱Ⅳ～の件、承知しました。"
    parsed = parse_message(message.as_bytes())
    assert parsed.subject.startswith("Re: 商品が届きません") and parsed.from_name == "髙島屋㈱ 窓口"


def test_smtp_server_down_while_sending_is_retried_and_sent_exactly_once(settings, agent, django_capture_on_commit_callbacks) -> None:
    from madoguchi.mail.tests.conftest import Sink

    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 3
    settings.MAIL_SEND_ACKNOWLEDGEMENT = False
    row = incoming_case(django_capture_on_commit_callbacks)
    out = reply(row.case, agent, django_capture_on_commit_callbacks)  # nothing listens on the port
    assert out.state == OutboundState.PENDING and out.attempts == 1 and "再送します" in out.last_error
    assert send_due() == 0  # backoff not over yet: no hammering
    sink = Sink(port=port).start()
    try:
        later = timezone.now() + dt.timedelta(minutes=5)
        assert send_due(now=later) == 1
        assert send_due(now=later + dt.timedelta(hours=1)) == 0
        assert send_outbound(out.pk) is None  # already sent: a second job does nothing
    finally:
        sink.stop()
    out.refresh_from_db()
    assert out.state == OutboundState.SENT and out.attempts == 2
    assert len(sent_to(sink, out.message_id)) == 1 and len(sink.received) == 1


def test_a_relay_that_refuses_connections_is_logged_once_not_once_per_mail(
        settings, agent, caplog, monkeypatch, django_capture_on_commit_callbacks) -> None:
    """A first desk on a laptop with no mail server printed one console line per waiting mail
    (the demo's replies and notifications: dozens). Once, with what to set; each mail keeps its
    own reason on its row."""
    from madoguchi.mail import outbound

    monkeypatch.setattr(outbound, "_relay_down_logged", None)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 3
    settings.MAIL_SEND_ACKNOWLEDGEMENT = False
    row = incoming_case(django_capture_on_commit_callbacks)
    with caplog.at_level("WARNING", logger="madoguchi.mail.outbound"):
        rows = [reply(row.case, agent, django_capture_on_commit_callbacks, body=f"ご連絡ありがとうございます。{n}")
                for n in range(5)]
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "MADOGUCHI_SMTP_OUT_PORT" in warnings[0]
    for out in rows:
        out.refresh_from_db()
        assert out.state == OutboundState.PENDING and "再送します" in out.last_error


def test_delivery_failure_is_shown_on_the_case_page(settings, agent, client, django_capture_on_commit_callbacks) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 3
    settings.MAIL_SEND_ACKNOWLEDGEMENT = False
    row = incoming_case(django_capture_on_commit_callbacks)
    out = reply(row.case, agent, django_capture_on_commit_callbacks)
    OutboundMessage.objects.filter(pk=out.pk).update(state=OutboundState.FAILED)
    client.force_login(agent)
    page = client.get(f"/cases/{row.case_id}/").content.decode()
    assert "送信できませんでした" in page and "再送する" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/mail/outbound/{out.pk}/retry/")
    assert response.status_code == 302
    out.refresh_from_db()
    assert out.state == OutboundState.PENDING and out.attempts == 1  # the retry ran once more, still down


def test_acknowledgement_is_marked_as_automatic(smtp_sink, django_capture_on_commit_callbacks) -> None:
    row = incoming_case(django_capture_on_commit_callbacks)
    ack = OutboundMessage.objects.get(case=row.case, kind=OutboundKind.ACK)
    [message] = sent_to(smtp_sink, ack.message_id)
    assert message["Auto-Submitted"] == "auto-replied" and message["In-Reply-To"] == "<customer-1@example.jp>"
    assert f"#{row.case_id}" in parse_message(message.as_bytes()).text


def test_notes_and_chat_replies_are_not_mailed(smtp_sink, agent, django_capture_on_commit_callbacks) -> None:
    row = incoming_case(django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        do_add_interaction(row.case, actor=agent, kind=InteractionKind.NOTE, channel="email", body="社内メモ")
        do_add_interaction(row.case, actor=agent, kind=InteractionKind.OUTBOUND, channel="chat", body="チャット返信")
    assert not OutboundMessage.objects.filter(kind=OutboundKind.REPLY).exists()


def test_overdue_commitment_is_mailed_to_the_team_lead_once(smtp_sink, agent, django_capture_on_commit_callbacks) -> None:
    lead = UserFactory(username="mail-lead", email="lead@shop.example.jp", role=Role.LEAD)
    team = TeamFactory(name="メール課", lead=lead)
    row = incoming_case(django_capture_on_commit_callbacks)
    row.case.team = team
    row.case.save()
    CommitmentFactory(case=row.case, owner=agent, due_at=timezone.now() - dt.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        escalate_overdue_commitments()
    mails = OutboundMessage.objects.filter(kind=OutboundKind.STAFF)
    assert {m.to_address for m in mails} == {"lead@shop.example.jp", "agent@shop.example.jp"}
    assert all(m.state == OutboundState.SENT for m in mails)
    # As a notification by mail of the kind 「約束の期限」 (notifications.mailing), in each one's language.
    assert any(parse_message(raw).subject.startswith("【約束の期限が近い・過ぎた】") and "を過ぎています" in parse_message(raw).subject
               for raw in smtp_sink.received)


def test_commitment_reminder_goes_to_the_owner_once(smtp_sink, agent, django_capture_on_commit_callbacks) -> None:
    row = incoming_case(django_capture_on_commit_callbacks)
    CommitmentFactory(case=row.case, owner=agent, due_at=timezone.now() + dt.timedelta(minutes=30))
    with django_capture_on_commit_callbacks(execute=True):
        assert remind_commitments() == 1
        assert remind_commitments() == 0
    assert OutboundMessage.objects.get(kind=OutboundKind.STAFF).to_address == "agent@shop.example.jp"
    assert RawMessage.objects.count() == 1


def test_reply_answers_the_customers_latest_real_mail_not_an_auto_reply_or_bounce(smtp_sink, agent, django_capture_on_commit_callbacks) -> None:
    from pathlib import Path

    row = incoming_case(django_capture_on_commit_callbacks)
    ack = OutboundMessage.objects.get(case=row.case, kind=OutboundKind.ACK)
    OutboundMessage.objects.filter(pk=ack.pk).update(message_id="<reply-42@madoguchi.example>")  # the one the bounce names
    vacation = japanese_mail(subject="不在のお知らせ", body="12月1日まで休暇中です。", message_id="<vacation-1@example.jp>",
                             headers={"Auto-Submitted": "auto-replied", "In-Reply-To": "<reply-42@madoguchi.example>"})
    bounce = next((Path(__file__).resolve().parent / "corpus").glob("*-bounce-dsn.eml")).read_bytes()
    with django_capture_on_commit_callbacks(execute=True):
        do_ingest_raw(vacation, "smtp")
        do_ingest_raw(bounce, "smtp")
    assert RawMessage.objects.filter(case=row.case).count() == 3  # both kept beside the case
    out = reply(row.case, agent, django_capture_on_commit_callbacks)
    [message] = sent_to(smtp_sink, out.message_id)
    assert message["In-Reply-To"] == "<customer-1@example.jp>"
    assert "<vacation-1@example.jp>" not in message["References"] and "<corpus-85@example.jp>" not in message["References"]


def test_references_list_the_thread_oldest_first_with_the_parent_last(smtp_sink, agent, django_capture_on_commit_callbacks) -> None:
    row = incoming_case(django_capture_on_commit_callbacks)
    ack = OutboundMessage.objects.get(case=row.case, kind=OutboundKind.ACK)
    first_reply = reply(row.case, agent, django_capture_on_commit_callbacks, body="確認いたします。注文番号をお知らせください。")
    with django_capture_on_commit_callbacks(execute=True):
        do_ingest_raw(japanese_mail(subject="Re: 商品が届きません", body="注文番号は KM-2026-1120 です。", message_id="<customer-2@example.jp>",
                                    headers={"In-Reply-To": first_reply.message_id}), "smtp")
    out = reply(row.case, agent, django_capture_on_commit_callbacks, body="本日発送いたしました。")
    [message] = sent_to(smtp_sink, out.message_id)
    assert message["In-Reply-To"] == "<customer-2@example.jp>"
    assert message["References"].split() == ["<customer-1@example.jp>", ack.message_id, first_reply.message_id, "<customer-2@example.jp>"]


def test_references_of_a_long_thread_keep_the_first_mail_and_the_newest(smtp_sink, agent, django_capture_on_commit_callbacks) -> None:
    from madoguchi.mail.outbound import MAX_REFERENCES

    row = incoming_case(django_capture_on_commit_callbacks)
    for number in range(2, MAX_REFERENCES + 4):
        with django_capture_on_commit_callbacks(execute=True):
            do_ingest_raw(japanese_mail(subject=f"Re: [#{row.case_id}] 商品が届きません", body=f"追記{number}です。",
                                        message_id=f"<customer-{number}@example.jp>"), "smtp")
    out = reply(row.case, agent, django_capture_on_commit_callbacks)
    references = out.references.split()
    assert len(references) == MAX_REFERENCES
    assert references[0] == "<customer-1@example.jp>" and references[-1] == f"<customer-{MAX_REFERENCES + 3}@example.jp>"
    assert out.in_reply_to == references[-1]


LONG_PARAGRAPH = (
    "このたびはご注文の急須が破損した状態で届きましたとのこと、大変申し訳ございません。"
    "お送りいただいた写真を拝見し、配送中の衝撃で蓋の縁が欠けたものと判断いたしました。"
    "つきましては、代わりの商品を本日中に発送いたしますので、お手元の破損品は同封の着払い伝票でご返送ください。"
    "①ご返送の期限は特に設けておりません。②代わりの商品は㈱窓口運輸の宅配便でお届けします。"
) * 4  # one paragraph of about 600 characters, no line break: over 998 bytes in ISO-2022-JP


def test_iso2022jp_reply_with_a_long_paragraph_is_folded_and_accepted(smtp_sink, agent, django_capture_on_commit_callbacks) -> None:
    mailbox = Mailbox.objects.create(name="窓口", address="support@shop.example.jp", charset=Charset.ISO2022JP)
    with django_capture_on_commit_callbacks(execute=True):
        row, _created = do_ingest_raw(japanese_mail(message_id="<jis-long@example.jp>"), "smtp", mailbox)
    row.refresh_from_db()
    assert len(LONG_PARAGRAPH) > 550
    out = reply(row.case, agent, django_capture_on_commit_callbacks, body=LONG_PARAGRAPH)
    assert out.state == OutboundState.SENT and out.attempts == 1
    [message] = sent_to(smtp_sink, out.message_id)
    assert message["Content-Transfer-Encoding"] == "7bit"
    payload = message.get_payload(decode=True)
    lines = payload.split(b"\n")
    assert len(lines) > 1 and all(len(line.rstrip(b"\r")) <= 998 for line in lines)
    assert all(line.rstrip(b"\r").endswith(b"\x1b(B") for line in lines if b"\x1b$B" in line)  # back to ASCII
    assert all(decode_iso2022jp(line.rstrip(b"\r")) for line in lines if line.strip())  # each line stands alone
    assert decode_iso2022jp(payload).replace("\r\n", "").replace("\n", "") == LONG_PARAGRAPH


def test_mail_refused_for_good_fails_at_once_and_shows_on_the_case(smtp_sink, agent, client, django_capture_on_commit_callbacks) -> None:
    row = incoming_case(django_capture_on_commit_callbacks)
    smtp_sink.answer = "554 5.7.1 Message rejected by policy"
    out = reply(row.case, agent, django_capture_on_commit_callbacks)
    assert out.state == OutboundState.FAILED and out.attempts == 1 and out.next_attempt_at is None
    assert "554" in out.last_error and "自動では再送しません" in out.last_error
    assert send_due(now=timezone.now() + dt.timedelta(days=1)) == 0
    out.refresh_from_db()
    assert out.attempts == 1  # not tried again
    client.force_login(agent)
    page = client.get(f"/cases/{row.case_id}/").content.decode()
    assert "送信できませんでした" in page and "再送する" in page


def test_outgoing_mail_is_dated_in_the_shops_time_zone(smtp_sink, agent, django_capture_on_commit_callbacks) -> None:
    from email.utils import parsedate_to_datetime

    row = incoming_case(django_capture_on_commit_callbacks)
    out = reply(row.case, agent, django_capture_on_commit_callbacks)
    [message] = sent_to(smtp_sink, out.message_id)
    assert message["Date"].endswith("+0900") and len(message.get_all("Date")) == 1
    assert abs(parsedate_to_datetime(message["Date"]) - timezone.now()) < dt.timedelta(minutes=1)


def test_a_mail_that_cannot_be_built_fails_at_once_with_the_reason_not_stuck_sending(smtp_sink, agent, django_capture_on_commit_callbacks) -> None:
    """Issue 21, finding 3: an address with CR/LF raised a ValueError that was not handled; the
    row stayed `sending` with its attempts rising and never failed."""
    row = incoming_case(django_capture_on_commit_callbacks)
    out = reply(row.case, agent, django_capture_on_commit_callbacks)
    assert out.state == OutboundState.SENT
    bad = OutboundMessage.objects.create(
        kind=out.kind, case=out.case, from_address=out.from_address, to_address="victim@example.jp\r\nBcc: spam@example.net",
        subject="Re: お問い合わせの件", body="本文", message_id="<bad-crlf@example.jp>",
    )
    sent_before = len(smtp_sink.received)
    result = send_outbound(bad.pk)
    assert result is not None and result.state == OutboundState.FAILED and result.next_attempt_at is None
    assert "宛先や内容に問題があるため送れません" in result.last_error
    assert len(smtp_sink.received) == sent_before
    assert send_due(now=timezone.now() + dt.timedelta(days=1)) == 0  # not tried again by the sweep
