"""The built-in SMTP receiver, spoken to with smtplib over a real socket."""

from __future__ import annotations

import smtplib
import threading

import pytest
from django.db import connection

from madoguchi.cases.models import Case
from madoguchi.mail.charsets import encode_iso2022jp
from madoguchi.mail.models import RawMessage, RawState
from madoguchi.mail.smtpd import make_controller
from madoguchi.mail.tests.conftest import free_port, wait_for
from madoguchi.mail.tests.helpers import japanese_mail

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver():  # type: ignore[no-untyped-def]
    controller = make_controller("127.0.0.1", free_port())
    controller.start()
    yield controller
    controller.stop()


def jis_mail() -> bytes:
    return (
        b"From: =?ISO-2022-JP?B?" + __import__("base64").b64encode(encode_iso2022jp("髙橋 ㈱")) + b"?= <takahashi@example.jp>\r\n"
        b"To: support@shop.example.jp\r\nSubject: =?ISO-2022-JP?B?" + __import__("base64").b64encode(encode_iso2022jp("①番の商品が破損")) + b"?=\r\n"
        b"Message-ID: <jis-smtp@example.jp>\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n\r\n"
        + encode_iso2022jp("箱が潰れていました～。Ⅳ型です。") + b"\r\n"
    )


def test_mail_sent_with_smtplib_is_stored_byte_for_byte_and_becomes_a_case(receiver) -> None:
    raw = jis_mail()
    with smtplib.SMTP("127.0.0.1", receiver.port, timeout=10) as client:
        client.sendmail("takahashi@example.jp", ["support@shop.example.jp"], raw)
    row = wait_for(lambda: RawMessage.objects.filter(message_id="<jis-smtp@example.jp>").first())
    assert bytes(row.raw).endswith(raw)  # aiosmtpd adds nothing but may prepend trace headers
    row = wait_for(lambda: RawMessage.objects.filter(pk=row.pk, state=RawState.PARSED).first())
    case = Case.objects.get(pk=row.case_id)
    assert case.subject == "①番の商品が破損" and case.customer.name == "髙橋 ㈱"
    assert "Ⅳ型" in case.complaint


def test_same_mail_delivered_twice_over_smtp_is_one_case(receiver) -> None:
    raw = japanese_mail(message_id="<twice@example.jp>")
    for _ in range(2):
        with smtplib.SMTP("127.0.0.1", receiver.port, timeout=10) as client:
            client.sendmail("taro@example.jp", ["support@shop.example.jp"], raw)
    wait_for(lambda: RawMessage.objects.filter(state=RawState.PARSED).exists())
    assert RawMessage.objects.count() == 1 and Case.objects.count() == 1


def test_oversized_mail_is_refused_by_the_receiver(settings) -> None:
    settings.MAIL_MAX_MESSAGE_BYTES = 10_000
    controller = make_controller("127.0.0.1", free_port())
    controller.start()
    try:
        with smtplib.SMTP("127.0.0.1", controller.port, timeout=10) as client, pytest.raises(smtplib.SMTPException):
            client.sendmail("a@example.jp", ["support@shop.example.jp"], japanese_mail(body="x" * 20_000))
    finally:
        controller.stop()
    assert RawMessage.objects.count() == 0


def _admin(sql: str) -> None:
    """Run SQL from the 'postgres' database: the test database is the one being switched off."""
    import psycopg

    params = connection.get_connection_params()
    for key in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(key, None)
    params["dbname"] = "postgres"
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute(sql)


def _set_connections(allowed: bool) -> None:
    name = connection.settings_dict["NAME"]
    _admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"true" if allowed else "false"}')
    if not allowed:
        _admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        connection.close()


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs PostgreSQL to refuse connections")
def test_database_restart_during_ingestion_loses_nothing(receiver) -> None:
    """The database refuses connections while a mail arrives: the receiver waits and retries;
    when it stays down, the sender is told 451 and keeps the mail, and its retry gets in."""
    _set_connections(False)
    try:
        threading.Timer(1.0, _set_connections, args=(True,)).start()
        with smtplib.SMTP("127.0.0.1", receiver.port, timeout=30) as client:
            client.sendmail("a@example.jp", ["support@shop.example.jp"], japanese_mail(message_id="<during-restart@example.jp>"))
        assert RawMessage.objects.filter(message_id="<during-restart@example.jp>").exists()
        _set_connections(False)
        with smtplib.SMTP("127.0.0.1", receiver.port, timeout=30) as client, pytest.raises(smtplib.SMTPDataError) as refused:
            client.sendmail("b@example.jp", ["support@shop.example.jp"], japanese_mail(message_id="<while-down@example.jp>"))
        assert refused.value.smtp_code == 451
    finally:
        _set_connections(True)
    with smtplib.SMTP("127.0.0.1", receiver.port, timeout=30) as client:  # the sender's retry
        client.sendmail("b@example.jp", ["support@shop.example.jp"], japanese_mail(message_id="<while-down@example.jp>"))
    wait_for(lambda: RawMessage.objects.filter(state=RawState.PARSED).count() == 2)


def test_serve_starts_the_receiver_through_embedded_starters(settings) -> None:
    from madoguchi.embedded import embedded_starters
    from madoguchi.mail.smtpd import start_smtp_receiver

    assert start_smtp_receiver in embedded_starters()
    settings.MAIL_SMTP_PORT = 0
    assert start_smtp_receiver() is None  # 0 turns it off
    settings.MAIL_SMTP_PORT = free_port()
    controller = start_smtp_receiver()
    try:
        with smtplib.SMTP("127.0.0.1", settings.MAIL_SMTP_PORT, timeout=10) as client:
            client.sendmail("a@example.jp", ["support@shop.example.jp"], japanese_mail(message_id="<serve@example.jp>"))
        wait_for(lambda: RawMessage.objects.filter(message_id="<serve@example.jp>", state=RawState.PARSED).exists())
    finally:
        controller.stop()


def test_mail_already_received_by_smtp_is_not_imported_again(receiver, tmp_path) -> None:
    from django.core.management import call_command

    raw = japanese_mail(message_id="<both-ways@example.jp>").replace(b"\r\n", b"\n").rstrip(b"\n")  # smtplib will fix the ends
    with smtplib.SMTP("127.0.0.1", receiver.port, timeout=10) as client:
        client.sendmail("a@example.jp", ["support@shop.example.jp"], raw)
    wait_for(lambda: RawMessage.objects.filter(message_id="<both-ways@example.jp>").exists())
    (tmp_path / "one.eml").write_bytes(raw)
    call_command("import-mail", str(tmp_path))
    assert RawMessage.objects.filter(message_id="<both-ways@example.jp>").count() == 1


def test_only_registered_mailboxes_are_accepted_once_there_are_any(receiver) -> None:
    from madoguchi.mail.models import Mailbox

    Mailbox.objects.create(name="窓口", address="support@shop.example.jp")
    with smtplib.SMTP("127.0.0.1", receiver.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.sendmail("a@example.jp", ["random@elsewhere.example"], japanese_mail())
    with smtplib.SMTP("127.0.0.1", receiver.port, timeout=10) as client:
        client.sendmail("a@example.jp", ["Support@shop.example.jp"], japanese_mail(message_id="<to-mailbox@example.jp>"))
    row = wait_for(lambda: RawMessage.objects.filter(message_id="<to-mailbox@example.jp>").first())
    assert row.mailbox is not None and row.mailbox.address == "support@shop.example.jp"


def test_vacation_reply_from_the_null_sender_opens_no_case_and_gets_no_answer(receiver) -> None:
    """Many out-of-office replies carry no Auto-Submitted or Precedence header; what marks them
    is the envelope's `MAIL FROM:<>`, which is not in the bytes the receiver stores."""
    from madoguchi.mail.models import OutboundMessage

    raw = japanese_mail(subject="不在のお知らせ", body="12月7日まで休暇のため不在にしております。戻り次第ご連絡いたします。",
                        message_id="<vacation-null@example.jp>").replace(b"\n", b"\r\n")  # as sent on the wire
    with smtplib.SMTP("127.0.0.1", receiver.port, timeout=10) as client:
        client.sendmail("", ["support@shop.example.jp"], raw)
    row = wait_for(lambda: RawMessage.objects.filter(message_id="<vacation-null@example.jp>").exclude(state=RawState.PENDING).first())
    assert row.state == RawState.IGNORED and row.auto_reason == "null-sender" and row.envelope_sender == "<>"
    assert bytes(row.raw).endswith(raw) and b"Return-Path" not in bytes(row.raw)
    assert Case.objects.count() == 0 and OutboundMessage.objects.count() == 0


def test_envelope_sender_of_ordinary_mail_is_kept_beside_the_exact_bytes(receiver) -> None:
    raw = japanese_mail(message_id="<envelope@example.jp>").replace(b"\n", b"\r\n")
    with smtplib.SMTP("127.0.0.1", receiver.port, timeout=10) as client:
        client.sendmail("bounces+taro@example.jp", ["support@shop.example.jp"], raw)
    row = wait_for(lambda: RawMessage.objects.filter(message_id="<envelope@example.jp>", state=RawState.PARSED).first())
    assert row.envelope_sender == "bounces+taro@example.jp" and row.auto_reason == "" and bytes(row.raw).endswith(raw)
