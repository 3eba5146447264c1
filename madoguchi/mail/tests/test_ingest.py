"""Inbound mail becomes cases: stored raw first, parsed, threaded, never dropped."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core import mail as django_mail

from madoguchi.cases.models import Case, Interaction, InteractionKind, Status
from madoguchi.customers.models import Identity
from madoguchi.mail.ingest import do_ingest_raw, process_raw_message
from madoguchi.mail.models import (
    Attachment,
    OutboundKind,
    OutboundMessage,
    OutboundState,
    RawMessage,
    RawState,
)
from madoguchi.mail.tests.helpers import japanese_mail

CORPUS = Path(__file__).resolve().parent / "corpus"


def corpus(name: str) -> bytes:
    """A corpus mail by its descriptive name (the number prefix may change)."""
    return next(CORPUS.glob(f"*-{name}.eml")).read_bytes()


pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_open")]


def ingest(raw: bytes, capture) -> RawMessage:  # type: ignore[no-untyped-def]
    with capture(execute=True):
        row, _created = do_ingest_raw(raw, "test")
    row.refresh_from_db()
    return row


def test_new_mail_opens_a_case_for_a_new_customer_with_acknowledgement(django_capture_on_commit_callbacks) -> None:
    raw = corpus("iso2022jp-cp50220-ext")
    row = ingest(raw, django_capture_on_commit_callbacks)
    assert bytes(row.raw) == raw and row.state == RawState.PARSED
    case = row.case
    assert case.subject == "①②の件 ㈱ Ⅳ ～" and case.channel == "email"
    assert "㈱窓口商事のⅣ型" in case.complaint
    assert Identity.objects.get(value="taro.yamada@example.jp").customer == case.customer
    entry = Interaction.objects.get(case=case, kind=InteractionKind.INBOUND)
    assert entry.kind == InteractionKind.INBOUND and entry.external_id == "<corpus-2@example.jp>"
    ack = OutboundMessage.objects.get(case=case, kind=OutboundKind.ACK)
    assert ack.state == OutboundState.SENT and f"#{case.pk}" in ack.body and "までにご連絡いたします" in ack.body
    assert django_mail.outbox[0].to == ["taro.yamada@example.jp"]


def test_same_mail_twice_is_stored_once(django_capture_on_commit_callbacks) -> None:
    raw = japanese_mail(message_id="<dup@example.jp>")
    first = ingest(raw, django_capture_on_commit_callbacks)
    second, created = do_ingest_raw(raw, "imap")
    relayed, created_again = do_ingest_raw(b"Received: from relay\r\n" + raw, "smtp")
    assert not created and not created_again and second.pk == first.pk == relayed.pk
    assert RawMessage.objects.count() == 1 and Case.objects.count() == 1


def test_reply_to_our_acknowledgement_joins_the_case_by_in_reply_to(django_capture_on_commit_callbacks) -> None:
    first = ingest(japanese_mail(), django_capture_on_commit_callbacks)
    ack = OutboundMessage.objects.get(case=first.case, kind=OutboundKind.ACK)
    reply = japanese_mail(subject="Re: 全く別の件名", sender="Taro@Example.jp", headers={"In-Reply-To": ack.message_id},
                          body="追加の写真です。\n\n> お問い合わせいただき")
    second = ingest(reply, django_capture_on_commit_callbacks)
    assert second.case == first.case
    assert second.interaction.body == "追加の写真です。"
    assert "お問い合わせいただき" in second.quoted_text


def test_case_token_in_subject_joins_when_headers_are_missing(django_capture_on_commit_callbacks) -> None:
    first = ingest(japanese_mail(), django_capture_on_commit_callbacks)
    case = first.case
    Case.objects.filter(pk=case.pk).update(status=Status.RESOLVED)
    reply = japanese_mail(subject=f"Ｒｅ：返信：商品が届きません [#{case.pk}]", body="まだ届きません")
    second = ingest(reply, django_capture_on_commit_callbacks)
    assert second.case == case
    case.refresh_from_db()
    assert case.status == Status.OPEN  # the customer wrote again


def test_stranger_cannot_write_into_a_case_by_guessing_its_number(django_capture_on_commit_callbacks) -> None:
    first = ingest(japanese_mail(), django_capture_on_commit_callbacks)
    other = ingest(japanese_mail(subject=f"無関係 [#{first.case.pk}]", sender="stranger@example.jp"), django_capture_on_commit_callbacks)
    assert other.case != first.case


def refused_note(case: Case) -> str:
    return Interaction.objects.get(case=case, kind=InteractionKind.SYSTEM, body__contains="参照しています").body


def test_stranger_repeating_the_case_subject_with_its_number_opens_a_case_of_their_own(django_capture_on_commit_callbacks) -> None:
    victim = ingest(japanese_mail(subject="返品について", sender="victim@example.jp"), django_capture_on_commit_callbacks)
    attack = japanese_mail(subject=f"[#{victim.case_id}] 注文について 返品について 届かない", sender="attacker@evil.example")
    other = ingest(attack, django_capture_on_commit_callbacks)
    assert other.case_id != victim.case_id
    assert other.case.customer != victim.case.customer
    assert other.case.customer.identities.get().value == "attacker@evil.example"
    assert f"#{victim.case_id}" in refused_note(other.case) and "attacker@evil.example" in refused_note(other.case)
    assert not RawMessage.objects.filter(case=victim.case, from_address="attacker@evil.example").exists()


def test_stranger_quoting_our_message_id_in_in_reply_to_or_references_opens_a_case_of_their_own(django_capture_on_commit_callbacks) -> None:
    victim = ingest(japanese_mail(subject="返品について", sender="victim@example.jp", message_id="<victim-1@example.jp>"),
                    django_capture_on_commit_callbacks)
    ack = OutboundMessage.objects.get(case=victim.case, kind=OutboundKind.ACK)
    by_reply = ingest(japanese_mail(subject="Re: 返品について", sender="attacker@evil.example",
                                    headers={"In-Reply-To": ack.message_id}), django_capture_on_commit_callbacks)
    by_refs = ingest(japanese_mail(subject="Re: 返品について", sender="attacker2@evil.example",
                                   headers={"References": "<victim-1@example.jp>"}), django_capture_on_commit_callbacks)
    for row in (by_reply, by_refs):
        assert row.case_id != victim.case_id and f"#{victim.case_id}" in refused_note(row.case)
    assert Interaction.objects.filter(case=victim.case, kind=InteractionKind.INBOUND).count() == 1


def test_customer_writing_from_a_second_address_gets_a_new_case_with_a_note(django_capture_on_commit_callbacks) -> None:
    """A legitimate reply from an address the desk does not know for this customer (work mail)
    is not joined automatically either: staff see the note and link it by hand."""
    first = ingest(japanese_mail(), django_capture_on_commit_callbacks)
    ack = OutboundMessage.objects.get(case=first.case, kind=OutboundKind.ACK)
    work = ingest(japanese_mail(subject=f"Re: 商品が届きません [#{first.case_id}]", sender="yamada@company.example.jp",
                                headers={"In-Reply-To": ack.message_id}), django_capture_on_commit_callbacks)
    assert work.case_id != first.case_id and f"#{first.case_id}" in refused_note(work.case)


def test_auto_reply_from_a_stranger_referring_to_a_case_is_not_filed_on_it(django_capture_on_commit_callbacks) -> None:
    first = ingest(japanese_mail(), django_capture_on_commit_callbacks)
    auto = ingest(japanese_mail(subject=f"自動応答: [#{first.case_id}]", sender="bot@evil.example",
                                headers={"Auto-Submitted": "auto-replied"}), django_capture_on_commit_callbacks)
    assert auto.state == RawState.IGNORED and auto.case_id is None


def test_customer_reply_by_token_and_by_references_still_joins_their_case(django_capture_on_commit_callbacks) -> None:
    first = ingest(japanese_mail(message_id="<taro-1@example.jp>"), django_capture_on_commit_callbacks)
    ingest(japanese_mail(subject="全然別の件", sender="hanako@example.jp"), django_capture_on_commit_callbacks)
    by_refs = ingest(japanese_mail(subject="別件のような件名", sender="TARO@example.jp",
                                   headers={"References": "<taro-1@example.jp>"}), django_capture_on_commit_callbacks)
    by_token = ingest(japanese_mail(subject=f"返信 [#{first.case_id}]"), django_capture_on_commit_callbacks)
    assert by_refs.case_id == by_token.case_id == first.case_id
    assert not Interaction.objects.filter(case=first.case, kind=InteractionKind.SYSTEM, body__contains="参照しています").exists()


def test_sender_open_case_catches_a_reply_without_headers_or_token(django_capture_on_commit_callbacks) -> None:
    first = ingest(japanese_mail(), django_capture_on_commit_callbacks)
    second = ingest(japanese_mail(subject="返信: 商品が届きません", body="補足です"), django_capture_on_commit_callbacks)
    assert second.case == first.case
    assert Case.objects.count() == 1


def test_unreadable_mail_is_kept_as_failed_and_can_be_retried(django_capture_on_commit_callbacks, client, django_user_model) -> None:
    raw = b"Subject: =?UTF-8?B?5beu5Ye65Lq644Gq44GX?=\r\n\r\nFrom header is missing"
    row = ingest(raw, django_capture_on_commit_callbacks)
    assert row.state == RawState.FAILED and "差出人" in row.error and bytes(row.raw) == raw
    user = django_user_model.objects.create_user(username="agent-m", password="pw-窓口-123")
    client.force_login(user)
    page = client.get("/mail/failed/")
    assert page.status_code == 200 and "差出人のメールアドレスが読み取れませんでした" in page.content.decode()
    assert "差出人なし" in page.content.decode()
    response = client.post(f"/mail/raw/{row.pk}/retry/")
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.state == RawState.FAILED and row.attempts == 2


def test_auto_replies_and_lists_never_open_a_case_or_get_an_acknowledgement(django_capture_on_commit_callbacks) -> None:
    for name in ("auto-submitted", "precedence-bulk", "list-id"):
        row = ingest(corpus(name), django_capture_on_commit_callbacks)
        assert row.state == RawState.IGNORED
    assert Case.objects.count() == 0 and OutboundMessage.objects.count() == 0


def test_acknowledgements_are_rate_limited_per_sender(django_capture_on_commit_callbacks, settings) -> None:
    settings.MAIL_ACK_PER_SENDER_PER_HOUR = 2
    for number in range(4):
        row = ingest(japanese_mail(subject=f"件名{number}", body=f"本文{number}"), django_capture_on_commit_callbacks)
        Case.objects.filter(pk=row.case_id).update(status=Status.CLOSED)  # next mail opens a new case
    assert Case.objects.count() == 4
    assert OutboundMessage.objects.filter(kind=OutboundKind.ACK).count() == 2


def test_bounce_marks_our_mail_as_undelivered_on_the_case(django_capture_on_commit_callbacks) -> None:
    first = ingest(japanese_mail(), django_capture_on_commit_callbacks)
    OutboundMessage.objects.filter(case=first.case, kind=OutboundKind.ACK).update(message_id="<reply-42@madoguchi.example>")
    bounce = ingest(corpus("bounce-dsn"), django_capture_on_commit_callbacks)
    assert bounce.state == RawState.IGNORED and bounce.case == first.case
    assert OutboundMessage.objects.get(case=first.case, kind=OutboundKind.ACK).state == OutboundState.BOUNCED
    assert Interaction.objects.filter(case=first.case, kind=InteractionKind.SYSTEM, body__contains="届きませんでした").exists()


def test_attachments_are_saved_with_their_japanese_names_and_downloadable(django_capture_on_commit_callbacks, client, django_user_model) -> None:
    row = ingest(corpus("rfc2047-encoded-filename"), django_capture_on_commit_callbacks)
    attachment = Attachment.objects.get(raw_message=row)
    assert attachment.filename == "納品書㈱.pdf" and attachment.size == 4
    client.force_login(django_user_model.objects.create_user(username="agent-a", password="pw-窓口-123"))
    response = client.get(f"/mail/attachment/{attachment.pk}/")
    assert b"".join(response.streaming_content) == b"%PDF"
    assert "UTF-8''%E7%B4%8D%E5%93%81%E6%9B%B8%E3%88%B1.pdf" in response["Content-Disposition"]
    page = client.get(f"/cases/{row.case_id}/").content.decode()
    assert "納品書㈱.pdf" in page


def test_oversized_attachment_is_listed_with_a_clear_message(django_capture_on_commit_callbacks, settings) -> None:
    settings.MAIL_MAX_ATTACHMENT_BYTES = 2
    row = ingest(corpus("rfc2047-encoded-filename"), django_capture_on_commit_callbacks)
    attachment = Attachment.objects.get(raw_message=row)
    assert attachment.too_large and not attachment.file


def test_pending_mail_left_by_a_crashed_worker_is_swept_up() -> None:
    from datetime import timedelta

    from django.utils import timezone

    from madoguchi.mail.ingest import sweep_pending

    row, _created = do_ingest_raw(japanese_mail(), "smtp")  # on_commit never ran: like a crash
    RawMessage.objects.filter(pk=row.pk).update(received_at=timezone.now() - timedelta(minutes=10))
    assert sweep_pending() == 1
    row.refresh_from_db()
    assert row.state == RawState.PARSED and row.case is not None
    assert process_raw_message(row.pk).interaction_id == row.interaction_id  # running twice changes nothing


def test_html_mail_is_shown_sanitised_on_the_case_page(django_capture_on_commit_callbacks, client, django_user_model) -> None:
    row = ingest(corpus("html-only-single"), django_capture_on_commit_callbacks)
    client.force_login(django_user_model.objects.create_user(username="agent-h", password="pw-窓口-123"))
    page = client.get(f"/cases/{row.case_id}/").content.decode()
    assert "HTMLメールとして表示" in page and "<b>本文</b>" in page
    assert "alert(1)" not in page and "tracker.example" not in page


def read_receipt(*, original_id: str, sender: str = "taro@example.jp") -> bytes:
    """A read receipt (RFC 8098) as Thunderbird sends it when the customer opens our mail."""
    lines = [
        f"From: 山田 太郎 <{sender}>",
        "To: support@shop.example.jp",
        "Subject: =?UTF-8?B?6ZaL5bCB5riI44G/OiDllYblk4HjgYzlsYrjgY3jgb7jgZvjgpM=?=",
        "Date: Mon, 23 Nov 2026 10:05:00 +0900",
        "Message-ID: <mdn-1@example.jp>",
        f"References: {original_id}",
        "MIME-Version: 1.0",
        'Content-Type: multipart/report; report-type=disposition-notification; boundary="mdn-boundary"',
        "",
        "--mdn-boundary",
        "Content-Type: text/plain; charset=UTF-8",
        "Content-Transfer-Encoding: 8bit",
        "",
        "このメッセージは 2026/11/23 10:05 に表示されました。",
        "--mdn-boundary",
        "Content-Type: message/disposition-notification",
        "",
        "Reporting-UA: example.jp; Thunderbird",
        "Final-Recipient: rfc822;" + sender,
        f"Original-Message-ID: {original_id}",
        "Disposition: manual-action/MDN-sent-manually; displayed",
        "--mdn-boundary",
        "Content-Type: text/rfc822-headers",
        "",
        f"Message-ID: {original_id}",
        "Subject: Re: =?UTF-8?B?5ZWG5ZOB44GM5bGK44GN44G+44Gb44KT?=",
        "--mdn-boundary--",
        "",
    ]
    return "\r\n".join(lines).encode("utf-8")


def test_read_receipt_does_not_mark_our_mail_bounced_and_opens_no_case(django_capture_on_commit_callbacks) -> None:
    first = ingest(japanese_mail(), django_capture_on_commit_callbacks)
    ack = OutboundMessage.objects.get(case=first.case, kind=OutboundKind.ACK)
    raw = read_receipt(original_id=ack.message_id)
    receipt = ingest(raw, django_capture_on_commit_callbacks)
    assert receipt.state == RawState.IGNORED and receipt.auto_reason == "read-receipt"
    assert bytes(receipt.raw) == raw
    ack.refresh_from_db()
    assert ack.state == OutboundState.SENT and ack.last_error == ""
    assert not Interaction.objects.filter(case=first.case, kind=InteractionKind.SYSTEM, body__contains="届きませんでした").exists()
    assert Interaction.objects.filter(case=first.case, kind=InteractionKind.INBOUND).count() == 1
    assert Case.objects.count() == 1 and OutboundMessage.objects.count() == 1  # nothing answered it


def test_mail_kept_as_headers_only_cannot_be_retried_and_keeps_its_reason(client, django_user_model) -> None:
    """The IMAP poller keeps only the headers of a mail over the size limit, as failed."""
    from madoguchi.mail.ingest import MailRejected, retry_raw_message

    header = japanese_mail(subject="写真を50枚送ります").split(b"\n\n", 1)[0] + b"\n\n"
    reason = "メールが大きすぎるため取り込めませんでした（31.5 MB、上限 25 MB）。"
    row, _created = do_ingest_raw(header, "imap", too_large=reason, full_size=33_000_000)
    client.force_login(django_user_model.objects.create_user(username="agent-big", password="pw-窓口-123"))
    page = client.get("/mail/failed/").content.decode()
    assert reason in page and f"/mail/raw/{row.pk}/retry/" not in page and f"/mail/raw/{row.pk}.eml" in page
    response = client.post(f"/mail/raw/{row.pk}/retry/", follow=True)
    assert "もう一度取り込むことはできません" in response.content.decode()
    row.refresh_from_db()
    assert row.state == RawState.FAILED and row.error == reason
    with pytest.raises(MailRejected):
        retry_raw_message(row.pk)


def test_failed_mail_that_is_complete_keeps_its_retry_button(django_capture_on_commit_callbacks, client, django_user_model) -> None:
    row = ingest(b"Subject: =?UTF-8?B?5beu5Ye65Lq644Gq44GX?=\r\n\r\nFrom header is missing", django_capture_on_commit_callbacks)
    client.force_login(django_user_model.objects.create_user(username="agent-r", password="pw-窓口-123"))
    assert f"/mail/raw/{row.pk}/retry/" in client.get("/mail/failed/").content.decode()


def test_new_case_subject_drops_the_case_token_it_quoted(django_capture_on_commit_callbacks) -> None:
    from madoguchi.mail.outbound import reply_subject

    victim = ingest(japanese_mail(subject="返品について", sender="victim@example.jp"), django_capture_on_commit_callbacks)
    other = ingest(japanese_mail(subject=f"Re: 返品について [#{victim.case_id}]", sender="hanako@example.jp"), django_capture_on_commit_callbacks)
    assert other.case_id != victim.case_id and other.case.subject == "返品について"
    assert reply_subject(other.case, answers=other.subject) == f"Re: 返品について [#{other.case_id}]"


def test_mail_with_several_case_tokens_joins_the_senders_own_case(django_capture_on_commit_callbacks) -> None:
    """A second case opened from a mail quoting the first one's number: the reply to it still
    carries both tokens (older desks kept them), and belongs to the sender's own case."""
    first = ingest(japanese_mail(subject="返品について", sender="victim@example.jp"), django_capture_on_commit_callbacks)
    own = ingest(japanese_mail(subject=f"返品について [#{first.case_id}]", sender="hanako@example.jp"), django_capture_on_commit_callbacks)
    Case.objects.filter(pk=own.case_id).update(status=Status.RESOLVED)  # not found as the open case: by its token only
    answer = ingest(japanese_mail(subject=f"Re: 返品について [#{first.case_id}] [#{own.case_id}]", sender="hanako@example.jp",
                                  body="伝票番号は 1234-5678-9012 です。"), django_capture_on_commit_callbacks)
    assert answer.case_id == own.case_id
    assert Case.objects.count() == 2


def test_mail_referring_to_someone_elses_case_joins_the_senders_open_case(django_capture_on_commit_callbacks) -> None:
    victim = ingest(japanese_mail(subject="返品について", sender="victim@example.jp"), django_capture_on_commit_callbacks)
    own = ingest(japanese_mail(subject="届いた急須が割れていました", sender="hanako@example.jp"), django_capture_on_commit_callbacks)
    later = ingest(japanese_mail(subject=f"Fw: [#{victim.case_id}] 返品について", sender="hanako@example.jp",
                                 body="友人から転送してもらった案内です。同じ対応をお願いできますか。"), django_capture_on_commit_callbacks)
    assert later.case_id == own.case_id and Case.objects.count() == 2
    note = Interaction.objects.get(case=own.case, kind=InteractionKind.SYSTEM, body__contains="参照しています").body
    assert f"#{victim.case_id}" in note and "対応中のこの案件に追加しました" in note
    assert not RawMessage.objects.filter(case=victim.case, from_address="hanako@example.jp").exists()


def test_forwarded_report_is_part_of_the_complaint(django_capture_on_commit_callbacks) -> None:
    row = ingest(corpus("nested-rfc822"), django_capture_on_commit_callbacks)
    assert "最初に送った内容です。" in row.case.complaint and "最初に送った内容です。" in row.interaction.body


def delivery_report(*, original_id: str, action: str) -> bytes:
    """A delivery status notification (RFC 3464) from the customer's provider, as Postfix sends it."""
    lines = [
        "From: MAILER-DAEMON@mx.example.jp (Mail Delivery System)",
        "To: support@shop.example.jp",
        "Subject: Delayed Mail (still being retried)" if action == "delayed" else "Subject: Undelivered Mail Returned to Sender",
        "Date: Mon, 23 Nov 2026 14:00:00 +0900",
        f"Message-ID: <dsn-{action}@mx.example.jp>",
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="dsn-boundary"',
        "",
        "--dsn-boundary",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        "This is the mail system at host mx.example.jp.",
        "--dsn-boundary",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; mx.example.jp",
        "",
        "Final-Recipient: rfc822; taro@example.jp",
        f"Action: {action}",
        "Status: 4.4.1" if action == "delayed" else "Status: 5.1.1",
        "--dsn-boundary",
        "Content-Type: text/rfc822-headers",
        "",
        f"Message-ID: {original_id}",
        "--dsn-boundary--",
        "",
    ]
    return "\r\n".join(lines).encode("utf-8")


def test_a_delay_notice_is_automatic_but_not_a_bounce(django_capture_on_commit_callbacks) -> None:
    first = ingest(japanese_mail(), django_capture_on_commit_callbacks)
    ack = OutboundMessage.objects.get(case=first.case, kind=OutboundKind.ACK)
    notice = ingest(delivery_report(original_id=ack.message_id, action="delayed"), django_capture_on_commit_callbacks)
    assert notice.state == RawState.IGNORED
    ack.refresh_from_db()
    assert ack.state == OutboundState.SENT  # still on its way: nothing is marked undelivered
    assert Case.objects.count() == 1

    failed = ingest(delivery_report(original_id=ack.message_id, action="failed"), django_capture_on_commit_callbacks)
    ack.refresh_from_db()
    assert ack.state == OutboundState.BOUNCED and failed.case_id == first.case_id
