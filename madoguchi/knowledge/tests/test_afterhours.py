"""After-hours first answer: once per case, never to auto-replies, with deflection recorded."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from madoguchi import businesshours
from madoguchi.cases import services as case_services
from madoguchi.cases.models import Channel, InteractionKind
from madoguchi.knowledge.models import AfterHoursReply, Deflection, DeflectionKind
from madoguchi.knowledge.seed import load_sample_articles
from madoguchi.knowledge.tests.conftest import jst

pytestmark = pytest.mark.django_db

SUNDAY_NIGHT = jst(2026, 11, 22, 22, 0)  # Sunday; Monday 11/23 is 勤労感謝の日, so Tuesday 9:00
FRIDAY_NOON = jst(2026, 11, 20, 12, 0)


def test_calendar_knows_2026_and_2027_public_holidays(db: Any) -> None:
    for day in (dt.date(2026, 1, 12), dt.date(2026, 5, 6), dt.date(2026, 11, 23), dt.date(2027, 3, 22), dt.date(2027, 9, 20)):
        assert not businesshours.is_open(jst(day.year, day.month, day.day, 11, 0)), day
    assert businesshours.is_open(jst(2027, 9, 21, 11, 0))


def outbound(case: Any) -> list[str]:
    return list(case.interactions.filter(kind=InteractionKind.OUTBOUND).values_list("body", flat=True))


def test_after_hours_email_gets_one_answer_with_faq_and_reply_time(
    make_case: Any, django_capture_on_commit_callbacks: Any
) -> None:
    load_sample_articles()
    with django_capture_on_commit_callbacks(execute=True):
        case = make_case("荷物が届かない", "注文した荷物がまだ届きません。追跡番号で見ても進んでいません。", received_at=SUNDAY_NIGHT)
    [answer] = outbound(case)
    assert "11月24日（火）9時00分以降" in answer
    assert "商品が届かない・配送が遅れている場合" in answer and "/faq/" in answer
    with django_capture_on_commit_callbacks(execute=True):  # the customer writes again: no second answer
        case_services.do_add_interaction(case, actor=None, kind=InteractionKind.INBOUND, channel=Channel.EMAIL,
                                         body="追記です。", occurred_at=SUNDAY_NIGHT + dt.timedelta(minutes=5))
    assert len(outbound(case)) == 1
    assert AfterHoursReply.objects.filter(case=case).count() == 1


def test_no_answer_during_business_hours_or_on_the_phone(make_case: Any, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        open_hours = make_case(received_at=FRIDAY_NOON)
        phone = make_case(channel=Channel.PHONE, received_at=SUNDAY_NIGHT)
    assert outbound(open_hours) == [] and outbound(phone) == []


def test_no_answer_to_an_automatic_reply(make_case: Any, django_capture_on_commit_callbacks: Any) -> None:
    from madoguchi.mail.models import RawMessage

    with django_capture_on_commit_callbacks(execute=True):
        case = make_case("自動応答: 不在です", "ただいま休暇中です。", received_at=SUNDAY_NIGHT)
        RawMessage.objects.create(source="smtp", raw=b"x", size=1, sha256="a" * 64, content_hash="b" * 64,
                                  auto_reason="auto-submitted", case=case, interaction=case.interactions.first())
    assert outbound(case) == []


def test_deflection_is_recorded_from_the_faq_link_and_the_answer(
    client: Any, make_case: Any, django_capture_on_commit_callbacks: Any
) -> None:
    load_sample_articles()
    with django_capture_on_commit_callbacks(execute=True):
        case = make_case("荷物が届かない", "荷物がまだ届きません。", received_at=SUNDAY_NIGHT)
    reply = AfterHoursReply.objects.get(case=case)
    article = reply.articles.first()
    client.get(f"/faq/{article.pk}/", {"r": reply.token})
    client.get(f"/faq/{article.pk}/", {"r": reply.token})  # a reload is one click
    response = client.post(f"/faq/{article.pk}/feedback/", {"helped": "1", "r": reply.token})
    assert response.status_code == 302
    kinds = sorted(Deflection.objects.filter(reply=reply).values_list("kind", flat=True))
    assert kinds == [DeflectionKind.CLICKED, DeflectionKind.HELPED]
    client.get(f"/faq/{article.pk}/", {"r": "forged"})
    assert Deflection.objects.count() == 2


def test_deflection_summary_counts_answers_and_outcomes(
    client: Any, agent: Any, make_case: Any, django_capture_on_commit_callbacks: Any
) -> None:
    load_sample_articles()
    with django_capture_on_commit_callbacks(execute=True):
        case = make_case("荷物が届かない", "荷物がまだ届きません。", received_at=SUNDAY_NIGHT)
        make_case("領収書", "領収書がほしいです。", received_at=SUNDAY_NIGHT + dt.timedelta(minutes=1))
    reply = AfterHoursReply.objects.get(case=case)
    client.post(f"/faq/{reply.articles.first().pk}/feedback/", {"helped": "1", "r": reply.token})
    client.force_login(agent)
    html = client.get("/knowledge/").content.decode()
    assert "営業時間外の自動回答: 2件（FAQを開いた: 0件、「解決した」: 1件、「解決しなかった」: 0件）" in html
