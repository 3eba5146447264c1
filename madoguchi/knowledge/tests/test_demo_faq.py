"""The demo ships こもれび堂's FAQ: a customer who writes at night about a broken item gets the
FAQ article about broken items in the after-hours answer, not an unrelated one."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from madoguchi.demo import load_demo
from madoguchi.knowledge.models import AfterHoursReply, Article, ArticleState, Visibility
from madoguchi.mail.ingest import do_ingest_raw
from madoguchi.mail.models import OutboundMessage
from madoguchi.mail.tests.helpers import japanese_mail

pytestmark = pytest.mark.django_db
SUNDAY_NIGHT = dt.datetime(2026, 11, 22, 22, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


@pytest.fixture
def demo_shop(settings: Any, tmp_path: Any) -> None:
    from madoguchi.businesshours.calendar import forget

    settings.DATA_DIR = tmp_path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    forget()  # the default calendar: weekdays 9:00-18:00
    load_demo(cases=30)


def test_demo_has_a_public_faq_and_an_internal_manual(demo_shop: None) -> None:
    published = Article.objects.filter(state=ArticleState.PUBLISHED)
    public = published.filter(visibility=Visibility.PUBLIC)
    assert public.count() >= 10 and published.filter(visibility=Visibility.INTERNAL).count() >= 4
    titles = " ".join(public.values_list("title", flat=True))
    for topic in ("届かない", "破損", "返品", "キャンセル", "支払い", "領収書", "ギフト", "サイズ", "パスワード"):
        assert topic in titles, topic
    assert all(len(body) > 150 for body in public.values_list("body", flat=True))  # real FAQ text, not a line


def test_after_hours_mail_about_a_broken_item_gets_the_breakage_faq(
    demo_shop: None, django_capture_on_commit_callbacks: Any
) -> None:
    raw = japanese_mail(
        subject="届いたマグカップが割れていました",
        body="昨日届いた有田焼のマグカップですが、箱を開けたら取っ手の部分が割れていました。交換してもらえますか。",
    )
    with time_machine.travel(SUNDAY_NIGHT, tick=False), django_capture_on_commit_callbacks(execute=True):
        row, _created = do_ingest_raw(raw, "smtp")
    row.refresh_from_db()
    reply = AfterHoursReply.objects.get(case=row.case)
    titles = [article.title for article in reply.articles.all()]
    assert titles and all(Article.objects.get(title=t).visibility == Visibility.PUBLIC for t in titles)
    [sent] = OutboundMessage.objects.filter(case=row.case)
    suggested = [line.removeprefix("・") for line in sent.body.splitlines() if line.startswith("・")]
    assert sorted(suggested) == sorted(titles) and "破損" in suggested[0], sent.body
