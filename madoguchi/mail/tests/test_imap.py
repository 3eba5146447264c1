"""Polling a real dovecot over IMAP: every message arrives once, one bad one stops nothing."""

from __future__ import annotations

import pytest

from madoguchi.cases.models import Case
from madoguchi.mail.imap import poll_mailbox, watch_mailbox
from madoguchi.mail.models import Mailbox, RawMessage, RawState
from madoguchi.mail.tests.helpers import japanese_mail

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_open")]


def make_mailbox(server, **extra) -> Mailbox:  # type: ignore[no-untyped-def]
    mailbox = Mailbox(name="窓口ショップ", address="support@shop.example.jp", imap_host="127.0.0.1",
                      imap_port=server.port, imap_tls=False, imap_user=server.user, **extra)
    if not mailbox.imap_password_env:
        mailbox.set_imap_password(server.password)
    mailbox.save()
    return mailbox


def test_password_is_stored_encrypted() -> None:
    mailbox = Mailbox(name="x", address="x@example.jp")
    mailbox.set_imap_password("imap-test-pw-2026")
    assert "imap-test-pw-2026" not in mailbox.imap_password_encrypted
    assert mailbox.imap_password() == "imap-test-pw-2026"


def test_polling_dovecot_files_each_message_once(dovecot, django_capture_on_commit_callbacks) -> None:
    dovecot.append(japanese_mail(subject="①の件 ㈱", sender="a@example.jp"))
    dovecot.append(japanese_mail(subject="返品希望", sender="b@example.jp"))
    mailbox = make_mailbox(dovecot)
    with django_capture_on_commit_callbacks(execute=True):
        result = poll_mailbox(mailbox)
    assert (result.stored, result.errors) == (2, [])
    assert set(Case.objects.values_list("subject", flat=True)) == {"①の件 ㈱", "返品希望"}
    assert RawMessage.objects.filter(mailbox=mailbox, source="imap", state=RawState.PARSED).count() == 2
    again = poll_mailbox(mailbox)  # flagged \Seen after storing: nothing new
    assert again.stored == 0 and RawMessage.objects.count() == 2
    mailbox.refresh_from_db()
    assert mailbox.last_polled_at is not None and mailbox.last_error == ""


def test_refetching_unseen_messages_makes_no_duplicates(dovecot) -> None:
    import imaplib

    dovecot.append(japanese_mail())
    mailbox = make_mailbox(dovecot)
    poll_mailbox(mailbox)
    client = imaplib.IMAP4("127.0.0.1", dovecot.port)
    client.login(dovecot.user, dovecot.password)
    client.select("INBOX")
    client.store("1:*", "-FLAGS", "\\Seen")  # as if the crash came before the \Seen flag
    client.logout()
    result = poll_mailbox(mailbox)
    assert (result.stored, result.duplicates) == (0, 1)
    assert RawMessage.objects.count() == 1


def test_password_can_come_from_an_environment_variable(dovecot, monkeypatch) -> None:
    monkeypatch.setenv("MADOGUCHI_IMAP_SHOP", dovecot.password)
    dovecot.append(japanese_mail())
    mailbox = make_mailbox(dovecot, imap_password_env="MADOGUCHI_IMAP_SHOP")
    assert mailbox.imap_password_encrypted == ""
    assert poll_mailbox(mailbox).stored == 1


def test_wrong_password_is_shown_on_the_mailbox(dovecot) -> None:
    mailbox = make_mailbox(dovecot)
    mailbox.set_imap_password("wrong")
    mailbox.save()
    result = poll_mailbox(mailbox)
    mailbox.refresh_from_db()
    assert result.errors and "Login" in mailbox.last_error or "login" in mailbox.last_error.lower()


def test_one_30mb_message_and_one_broken_message_do_not_stop_the_others(dovecot, django_capture_on_commit_callbacks) -> None:
    dovecot.append(japanese_mail(subject="一通目", sender="first@example.jp"))
    huge = japanese_mail(subject="巨大な添付", sender="huge@example.jp", body="大きい" + "x" * 30 * 1024 * 1024)
    dovecot.append(huge)
    dovecot.append(b"\x00\xff garbage without any headers \x1b$B\r\n\r\n\xff\xfe")
    dovecot.append(japanese_mail(subject="最後の一通", sender="last@example.jp"))
    mailbox = make_mailbox(dovecot)
    with django_capture_on_commit_callbacks(execute=True):
        result = poll_mailbox(mailbox)
    assert result.too_large == 1 and result.stored == 3 and result.errors == []
    assert {"一通目", "最後の一通"} <= set(Case.objects.values_list("subject", flat=True))
    big = RawMessage.objects.get(state=RawState.FAILED, subject="巨大な添付")
    assert "大きすぎる" in big.error and "MB" in big.error
    assert big.is_truncated and big.size > 30 * 1024 * 1024
    assert RawMessage.objects.filter(state=RawState.FAILED).count() == 2  # the huge one and the garbage


@pytest.mark.django_db(transaction=True)
def test_idle_fetches_a_new_message_as_soon_as_it_arrives(dovecot) -> None:
    import threading
    import time

    mailbox = make_mailbox(dovecot, poll_seconds=60)
    dovecot.append(japanese_mail(subject="待ち受け前", sender="before@example.jp"))
    watcher = threading.Thread(target=watch_mailbox, args=(mailbox,), kwargs={"rounds": 2}, daemon=True)
    started = time.monotonic()
    watcher.start()
    time.sleep(1.5)  # the first round has fetched; the watcher now waits in IDLE
    dovecot.append(japanese_mail(subject="待ち受け中に届いた", sender="during@example.jp"))
    watcher.join(timeout=30)
    assert not watcher.is_alive()
    assert time.monotonic() - started < 30  # woken by the server, not by the 60 s interval
    assert set(RawMessage.objects.values_list("subject", flat=True)) == {"待ち受け前", "待ち受け中に届いた"}
