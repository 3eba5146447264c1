"""Out of business hours a new customer gets ONE automatic mail: the after-hours answer, which
carries the acknowledgement's case number; in business hours the acknowledgement alone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail as django_mail

from madoguchi.knowledge.models import AfterHoursReply
from madoguchi.knowledge.seed import load_sample_articles
from madoguchi.mail.ingest import do_ingest_raw
from madoguchi.mail.models import OutboundKind, OutboundMessage, RawMessage
from madoguchi.mail.tests.helpers import japanese_mail

JST = ZoneInfo("Asia/Tokyo")
# The default calendar (weekdays 9:00–18:00, public holidays closed): Sunday night, and the
# Monday after it is 勤労感謝の日, so an agent answers from Tuesday 9:00.
SUNDAY_NIGHT = dt.datetime(2026, 11, 22, 22, 0, tzinfo=JST)
FRIDAY_NOON = dt.datetime(2026, 11, 20, 12, 0, tzinfo=JST)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def default_calendar(db: object) -> Iterator[None]:
    from madoguchi.businesshours.calendar import forget

    forget()  # another test may have left an open-around-the-clock calendar in the cache
    yield
    forget()


def receive(raw: bytes, capture) -> RawMessage:  # type: ignore[no-untyped-def]
    with capture(execute=True):  # the commit: the worker files the mail, then answers it
        row, _created = do_ingest_raw(raw, "smtp")
    row.refresh_from_db()
    return row


def test_new_customer_writing_at_night_gets_one_mail_with_the_case_number(django_capture_on_commit_callbacks) -> None:
    load_sample_articles()
    with time_machine.travel(SUNDAY_NIGHT + dt.timedelta(minutes=1), tick=False):
        row = receive(japanese_mail(subject="荷物が届かない", body="注文した荷物がまだ届きません。"), django_capture_on_commit_callbacks)
    case = row.case
    [only] = OutboundMessage.objects.filter(case=case)
    assert only.kind == OutboundKind.REPLY and only.to_address == "taro@example.jp"
    assert f"受付番号: #{case.pk}" in only.body and "荷物が届かない" not in only.body  # never a stranger's words (issue 21)
    assert "ただいま営業時間外のため、担当者からのご返信は11月24日（火）9時00分以降となります" in only.body
    assert "/faq/" in only.body and "このメールにそのまま返信してください" in only.body
    assert AfterHoursReply.objects.get(case=case).interaction.body == only.body
    assert [message.to for message in django_mail.outbox] == [["taro@example.jp"]]
    assert f"[#{case.pk}]" in django_mail.outbox[0].subject
    assert django_mail.outbox[0].extra_headers["Auto-Submitted"] == "auto-generated"


def test_new_customer_writing_in_business_hours_gets_the_acknowledgement_only(django_capture_on_commit_callbacks) -> None:
    with time_machine.travel(FRIDAY_NOON, tick=False):
        row = receive(japanese_mail(), django_capture_on_commit_callbacks)
    [only] = OutboundMessage.objects.filter(case=row.case)
    assert only.kind == OutboundKind.ACK and f"#{row.case_id}" in only.body
    assert not AfterHoursReply.objects.exists()
    assert len(django_mail.outbox) == 1


def test_no_mail_at_all_to_an_auto_reply_at_night(django_capture_on_commit_callbacks) -> None:
    auto = japanese_mail(subject="不在のお知らせ", body="休暇中です。", headers={"Auto-Submitted": "auto-replied"})
    with time_machine.travel(SUNDAY_NIGHT + dt.timedelta(minutes=1), tick=False):
        receive(auto, django_capture_on_commit_callbacks)
    assert OutboundMessage.objects.count() == 0 and not AfterHoursReply.objects.exists()
    assert django_mail.outbox == []


def test_promise_and_business_hours_count_from_arrival_not_from_an_old_date_header(django_capture_on_commit_callbacks) -> None:
    """A mail written on a Sunday night that sat in the customer's outbox until Friday noon:
    the desk received it in business hours, and promises a time after its arrival."""
    from madoguchi.mail.outbound import reply_due

    written = SUNDAY_NIGHT - dt.timedelta(days=7)
    with time_machine.travel(FRIDAY_NOON, tick=False):
        row = receive(japanese_mail(date=written), django_capture_on_commit_callbacks)
    assert row.case.received_at == row.received_at == FRIDAY_NOON
    assert row.interaction.occurred_at == FRIDAY_NOON
    [only] = OutboundMessage.objects.filter(case=row.case)
    due = reply_due(FRIDAY_NOON).astimezone(JST)
    assert only.kind == OutboundKind.ACK and f"{due:%Y年%m月%d日}" in only.body and f"{due:%H:%M} までにご連絡いたします" in only.body
    assert not AfterHoursReply.objects.exists()


def test_date_header_in_the_future_does_not_move_the_received_time(django_capture_on_commit_callbacks) -> None:
    with time_machine.travel(FRIDAY_NOON, tick=False):
        row = receive(japanese_mail(date=FRIDAY_NOON + dt.timedelta(days=30)), django_capture_on_commit_callbacks)
    assert row.case.received_at == FRIDAY_NOON


def test_acknowledgements_and_after_hours_answers_share_one_limit_per_sender(django_capture_on_commit_callbacks, settings) -> None:
    """Friday evening one sender opens three cases within the hour: the acknowledgement at
    17:40 and the after-hours answer at 18:05 use the limit of two; the third mail gets none."""
    from madoguchi.cases.models import Case, Status

    settings.MAIL_ACK_PER_SENDER_PER_HOUR = 2
    evening = FRIDAY_NOON.replace(hour=17, minute=40)
    for minutes, subject in ((0, "注文の確認"), (25, "配送先の変更"), (40, "領収書の発行")):
        with time_machine.travel(evening + dt.timedelta(minutes=minutes), tick=False):
            row = receive(japanese_mail(subject=subject, body=f"{subject}をお願いします。"), django_capture_on_commit_callbacks)
        Case.objects.filter(pk=row.case_id).update(status=Status.CLOSED)  # the next mail opens a new case
    assert Case.objects.count() == 3
    kinds = list(OutboundMessage.objects.order_by("pk").values_list("case__subject", "kind"))
    assert kinds == [("注文の確認", OutboundKind.ACK), ("配送先の変更", OutboundKind.REPLY)]
    assert AfterHoursReply.objects.count() == 1


def test_after_hours_answers_to_one_sender_are_limited_per_hour(django_capture_on_commit_callbacks, settings) -> None:
    from madoguchi.cases.models import Case, Status

    settings.MAIL_ACK_PER_SENDER_PER_HOUR = 1
    for minutes in (1, 10, 20):
        with time_machine.travel(SUNDAY_NIGHT + dt.timedelta(minutes=minutes), tick=False):
            row = receive(japanese_mail(subject=f"問い合わせ{minutes}", body="返品したいです。"), django_capture_on_commit_callbacks)
        Case.objects.filter(pk=row.case_id).update(status=Status.CLOSED)
    assert OutboundMessage.objects.count() == 1 and len(django_mail.outbox) == 1
