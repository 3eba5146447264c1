"""The automatic mails repeat nothing a stranger wrote (issue 21, finding 1): an attacker's
「【重要】アカウント停止 https://evil.example/login で再認証」 as subject and display name went out from
the shop's address in the acknowledgement. And automatic mails are limited per sender domain
and overall, not only per address (forged senders vary the address)."""

from __future__ import annotations

from typing import Any

import pytest

from madoguchi.mail.ingest import do_ingest_raw
from madoguchi.mail.models import OutboundKind, OutboundMessage
from madoguchi.mail.tests.helpers import japanese_mail

pytestmark = pytest.mark.django_db
PHISHING = "【重要】アカウント停止 https://evil.example/login で再認証"
PHISHING_NAME = "【重要】アカウント停止のお知らせ evil.example"


def forged(capture: Any, n: int, sender: str) -> None:
    with capture(execute=True):
        do_ingest_raw(japanese_mail(subject=PHISHING, name=PHISHING_NAME, sender=sender, message_id=f"<forged-{n}@evil.example>",
                                    body=f"至急ご確認ください {n}"), "smtp", None)


def automatic() -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(interaction__author__isnull=True) | OutboundMessage.objects.filter(kind=OutboundKind.ACK))


def test_the_acknowledgement_repeats_neither_subject_nor_name(shop_open: None, django_capture_on_commit_callbacks: Any) -> None:
    forged(django_capture_on_commit_callbacks, 1, "victim@example.jp")
    [ack] = OutboundMessage.objects.filter(kind=OutboundKind.ACK)
    assert "evil.example" not in ack.subject + ack.body and "アカウント停止" not in ack.subject + ack.body
    assert f"[#{ack.case_id}]" in ack.subject and f"#{ack.case_id}" in ack.body
    assert ack.in_reply_to == "<forged-1@evil.example>"  # still threaded


def test_the_after_hours_answer_repeats_neither_subject_nor_name(django_capture_on_commit_callbacks: Any) -> None:
    from django.utils import timezone

    from madoguchi.businesshours.calendar import forget
    from madoguchi.businesshours.models import ClosedDay

    today = timezone.localdate()
    ClosedDay.objects.create(year=today.year, month=today.month, day=today.day, name="臨時休業")
    forget()
    forged(django_capture_on_commit_callbacks, 2, "victim2@example.jp")
    [answer] = automatic()
    assert answer.kind == OutboundKind.REPLY and "営業時間外" in answer.body
    assert "evil.example" not in answer.subject + answer.body and "アカウント停止" not in answer.subject + answer.body
    forget()


def test_automatic_mails_are_limited_per_sender_domain_and_overall(shop_open: None, settings: Any,
                                                                   django_capture_on_commit_callbacks: Any) -> None:
    settings.MAIL_ACK_PER_DOMAIN_PER_HOUR, settings.MAIL_ACK_TOTAL_PER_HOUR = 3, 5
    for n in range(5):
        forged(django_capture_on_commit_callbacks, 10 + n, f"user{n}@victims.example")
    assert len(automatic()) == 3, "at most 3 an hour to one domain, whatever the address"
    for n in range(4):
        forged(django_capture_on_commit_callbacks, 20 + n, f"someone@other{n}.example")
    assert len(automatic()) == 5, "and at most 5 an hour in all"
