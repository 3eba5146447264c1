"""A mailbox's IMAP password may come from an environment variable, but only one meant for it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from madoguchi.mail.imap import poll_mailbox
from madoguchi.mail.models import Mailbox

pytestmark = pytest.mark.django_db


def test_only_madoguchi_imap_variables_can_be_named(monkeypatch) -> None:
    monkeypatch.setenv("MADOGUCHI_IMAP_SUPPORT", "s3cret")
    mailbox = Mailbox(name="窓口", address="support@shop.example.jp", imap_host="imap.example.jp", imap_password_env="MADOGUCHI_IMAP_SUPPORT")
    mailbox.full_clean()
    assert mailbox.imap_password() == "s3cret"
    for name in ("SECRET_KEY", "DATABASE_URL", "madoguchi_imap_x", "MADOGUCHI_IMAP_", "XMADOGUCHI_IMAP_A"):
        mailbox.imap_password_env = name
        with pytest.raises(ValidationError) as raised:
            mailbox.full_clean()
        assert "MADOGUCHI_IMAP_ で始まる" in str(raised.value.message_dict["imap_password_env"])


def test_a_forbidden_variable_saved_around_the_form_is_never_read_or_sent(monkeypatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "do-not-send")
    mailbox = Mailbox.objects.create(name="窓口", address="support@shop.example.jp", imap_host="127.0.0.1", imap_port=9,
                                     imap_password_env="SECRET_KEY")
    with pytest.raises(ValueError, match="MADOGUCHI_IMAP_"):
        mailbox.imap_password()
    result = poll_mailbox(mailbox)  # refused before any connection is made
    mailbox.refresh_from_db()
    assert "MADOGUCHI_IMAP_" in mailbox.last_error and result.errors


def test_admin_form_refuses_other_variables(admin_client) -> None:
    response = admin_client.post("/admin/mail/mailbox/add/", {
        "name": "窓口", "address": "support@shop.example.jp", "charset": "utf-8", "imap_port": 993, "imap_folder": "INBOX",
        "poll_seconds": 60, "imap_password_env": "SECRET_KEY", "imap_host": "imap.evil.example",
    })
    assert response.status_code == 200 and "MADOGUCHI_IMAP_ で始まる" in response.content.decode()
    assert not Mailbox.objects.exists()
