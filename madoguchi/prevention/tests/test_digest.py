"""The weekly prevention digest goes to every staff member (seed 000: share it with everyone) over
real SMTP, once a week, and is parsed back: each countermeasure being checked with its cause,
fix, effect statement and the report's link; a person who turned it off gets none."""

from __future__ import annotations

import datetime as dt
import email
from email.header import decode_header, make_header
from email.message import Message
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from madoguchi.notifications.models import MailPreference
from madoguchi.prevention.digest import send_weekly_digest
from madoguchi.prevention.models import Countermeasure, DigestWeek
from madoguchi.prevention.tests.conftest import generate
from madoguchi.shop.models import Carrier
from madoguchi.testing.factories import category

pytestmark = pytest.mark.django_db(transaction=True)
JST = ZoneInfo("Asia/Tokyo")
MONDAY = dt.date(2026, 11, 30)


def received(sink: Any) -> list[Message]:
    return [email.message_from_bytes(raw) for raw in sink.received]


def to(sink: Any, address: str) -> list[Message]:
    return [m for m in received(sink) if address in str(m["To"])]


def subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(message.get_content_charset() or "utf-8")


def test_the_weekly_digest_is_mailed_to_everyone_once_and_parsed_back(people: dict[str, Any], smtp_sink: Any,
                                                                      settings: Any, time_machine: Any) -> None:
    settings.PREVENTION_DIGEST_WEEKDAY, settings.PREVENTION_DIGEST_HOUR = 0, 9
    fix = MONDAY - dt.timedelta(days=35)
    generate(fix, before=36, after=9)
    countermeasure = Countermeasure.objects.create(
        title="佐川急便の置き配をやめ、対面受け取りに変更", cause="carrier", done_by=people["lead"], done_on=fix,
        category=category("delivery"), carrier=Carrier.SAGAWA, detail="配送設定で置き配を不可にした。")
    Countermeasure.objects.create(title="昔の対策", cause="shop", done_on=MONDAY - dt.timedelta(days=300),  # long done
                                  created_at=dt.datetime(2026, 2, 3, 10, 0, tzinfo=JST))
    MailPreference.objects.create(user=people["other"], prevention_digest=False)
    MailPreference.objects.create(user=people["admin"], language="en")

    time_machine.move_to(dt.datetime(2026, 11, 30, 8, 59, tzinfo=JST), tick=False)
    assert send_weekly_digest() == 0  # Monday 9:00 JST, not before
    time_machine.move_to(dt.datetime(2026, 11, 30, 9, 0, tzinfo=JST), tick=False)
    assert send_weekly_digest() == 3  # lead, agent, admin; not `other` (turned off), not lead2 (no address)
    assert send_weekly_digest() == 0  # once a week
    time_machine.move_to(dt.datetime(2026, 12, 2, 15, 0, tzinfo=JST), tick=False)
    assert send_weekly_digest() == 0  # still this week's
    assert DigestWeek.objects.get().recipients == 3

    [mail] = to(smtp_sink, "agent@shop.example.jp")
    assert subject(mail) == "【再発防止の週報】2026/11/30"
    assert mail["Auto-Submitted"] == "auto-generated"
    text = body(mail)
    assert "■ 佐川急便の置き配をやめ、対面受け取りに変更" in text
    assert "根本原因: 配送業者" in text and f"実施: {fix:%Y/%m/%d}（佐藤 リーダー）" in text
    assert "配送業者: 佐川急便" in text and "対策の内容: 配送設定で置き配を不可にした。" in text
    assert "もとになった案件: 36件" in text
    assert "偶然では説明しにくい減少" in text
    assert f"https://desk.example.jp/prevention/{countermeasure.pk}/" in text
    assert "昔の対策" not in text
    assert to(smtp_sink, "lead@shop.example.jp") and not to(smtp_sink, "other@shop.example.jp")
    [english] = to(smtp_sink, "boss@shop.example.jp")
    assert "prevention" in subject(english).lower() or "再発防止" in subject(english)  # its language (once translated)

    # The next Monday: another digest.
    time_machine.move_to(dt.datetime(2026, 12, 7, 9, 30, tzinfo=JST), tick=False)
    assert send_weekly_digest() == 3
    assert len(to(smtp_sink, "agent@shop.example.jp")) == 2
