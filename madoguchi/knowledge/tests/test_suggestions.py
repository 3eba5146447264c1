"""Suggestions: the right article first for at least 8 of 10 realistic complaints."""

from __future__ import annotations

from typing import Any

import pytest

from madoguchi.knowledge.seed import load_sample_articles
from madoguchi.knowledge.suggestions import suggest_articles, suggest_cases

pytestmark = pytest.mark.django_db

# Written the way customers write: none of them reuses an article title.
COMPLAINTS = [
    ("先週の月曜に注文したのに、まだ荷物が来ません。追跡番号で調べても「発送準備中」のままです。いつになりますか？",
     "商品が届かない・配送が遅れている場合"),
    ("箱を開けたらマグカップの取っ手が割れていました。外箱も潰れていて、ひどいと思います。",
     "届いた商品が破損していた場合"),
    ("スカートのサイズが合わなかったので送り返したいです。タグは付けたままです。どうすればいいですか。",
     "返品・交換の方法"),
    ("返品した商品は先週そちらに着いているはずですが、まだお金が戻ってきていません。",
     "返金はいつ受け取れますか"),
    ("カードの明細を見たら、同じ注文で2回引き落とされていました。確認してください。",
     "同じ注文で二重に請求されている場合"),
    ("メルマガで届いた500円引きのクーポンコードを入力してもエラーになって使えません。",
     "クーポンが使えない場合"),
    ("届いた電気ケトルのスイッチを入れてもランプがつかず、お湯が沸きません。",
     "電源が入らない・動かない（初期不良）"),
    ("不在票が入っていました。平日は留守なので、受け取りを土曜日に変えてもらえますか。",
     "配達日時の変更・再配達（不在票が入っていた場合）"),
    ("会社の経費で精算したいので、宛名を会社名にした領収書をお願いできますか。",
     "領収書を発行してほしい"),
    ("配達完了になっているのに、玄関の前に荷物がありません。どこに置いたのでしょうか。",
     "置き配の荷物が見当たらない場合"),
]


def test_right_article_first_for_at_least_8_of_10_complaints(db: Any) -> None:
    load_sample_articles()
    misses = []
    for complaint, expected in COMPLAINTS:
        found = suggest_articles(complaint, limit=3)
        top = found[0].article.title if found else None
        if top != expected:
            misses.append((complaint[:20], expected, top))
    assert len(misses) <= 2, misses


def test_similar_resolved_cases_are_suggested_but_not_open_ones(
    make_case: Any, agent: Any, django_capture_on_commit_callbacks: Any, shop_open: None
) -> None:
    from madoguchi.cases import services as case_services

    with django_capture_on_commit_callbacks(execute=True):  # the worker indexes the cases after the commit
        resolved = make_case("ケトルが動かない", "電気ケトルの電源が入りません。", category="defect", solution="新品と交換しました。")
        case_services.do_update_case(resolved, actor=agent, expected_version=resolved.version, changes={"status": "resolved"})
        make_case("ケトルが動かない2", "電気ケトルの電源が入らない", category="defect", solution="調査中")
        make_case("配送の件", "荷物が届きません。", solution="再発送しました。")
        current = make_case("ケトルの不具合", "買ったばかりの電気ケトルの電源が入らないです。", category="defect")
    found = suggest_cases(f"{current.subject}\n{current.complaint}", exclude=current.pk)
    assert [s.case.pk for s in found] == [resolved.pk]


def test_case_page_lists_suggestions_with_insert_buttons(client: Any, agent: Any, make_case: Any) -> None:
    load_sample_articles()
    case = make_case("荷物がまだ来ない", "注文した荷物がまだ届きません。追跡番号で見ても進んでいません。")
    client.force_login(agent)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert f'hx-get="/knowledge/cases/{case.pk}/suggestions/"' in page  # loaded after the page
    section = client.get(f"/knowledge/cases/{case.pk}/suggestions/").content.decode()
    assert section.index("商品が届かない・配送が遅れている場合") < section.index("似ている解決済みの案件")
    assert "data-kb-insert" in section and "/faq/" in section


def test_suggestions_cost_the_same_statements_for_a_short_and_a_long_complaint(
    client: Any, agent: Any, make_case: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    load_sample_articles()
    short = make_case("届かない", "荷物が届きません。")
    long = make_case(
        "ケトルの不具合と配送と請求の件",
        "先週注文した電気ケトルが届いたのですが、箱が潰れていて取っ手が割れていました。"
        "スイッチを入れてもランプがつかずお湯も沸きません。しかもカードの明細を見ると同じ注文で"
        "二回引き落とされています。クーポンコードも使えませんでした。領収書も会社名でお願いします。",
    )
    from madoguchi.knowledge.models import CaseSuggestions

    client.force_login(agent)
    client.get(f"/knowledge/cases/{short.pk}/suggestions/")  # session and caches warm
    counts = []
    for case in (short, long):
        CaseSuggestions.objects.all().delete()  # ranked now, not read from the last time
        with CaptureQueriesContext(connection) as captured:
            client.get(f"/knowledge/cases/{case.pk}/suggestions/")
        counts.append(len(captured))
    assert counts[0] == counts[1], counts
