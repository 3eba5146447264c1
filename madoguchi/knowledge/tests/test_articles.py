"""Articles: safe Markdown, versions with authors, manual from a case, the public FAQ."""

from __future__ import annotations

from typing import Any

import pytest

from madoguchi.cases import services as case_services
from madoguchi.cases.models import Channel, InteractionKind
from madoguchi.knowledge import services
from madoguchi.knowledge.models import Article, ArticleState, Visibility
from madoguchi.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def publish(title: str, body: str, actor: Any = None, **kwargs: Any) -> Article:
    kwargs.setdefault("visibility", Visibility.PUBLIC)
    kwargs.setdefault("state", ArticleState.PUBLISHED)
    return services.do_save_article(None, actor=actor, title=title, body=body, **kwargs)


def test_markdown_is_rendered_and_html_is_not() -> None:
    html = services.render_markdown(
        "## 返品\n\n- **8日以内**\n\n<script>alert(1)</script>\n\n[危険](javascript:alert(1)) [公式](https://example.jp)\n\n"
        "<img src=x onerror=alert(1)>"
    )
    assert "<h2>返品</h2>" in html and "<strong>8日以内</strong>" in html
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;" in html  # shown as text, not run
    assert 'href="https://example.jp"' in html


def test_every_save_is_a_version_with_its_author(lead: Any) -> None:
    from madoguchi.accounts.models import Role

    agent = lead
    editor = UserFactory(username="editor", display_name="鈴木 一郎", role=Role.ADMIN)
    article = publish("返品の方法", "本文1", actor=agent, tags=["返品", "交換"])
    article = services.do_save_article(article, actor=editor, title="返品・交換の方法", body="本文2",
                                       visibility=Visibility.PUBLIC, state=ArticleState.PUBLISHED,
                                       tags=["返品"], expected_version=1)
    versions = list(article.versions.order_by("number"))
    assert [(v.number, v.title, v.author) for v in versions] == [(1, "返品の方法", agent), (2, "返品・交換の方法", editor)]
    assert versions[0].tags == "返品, 交換"
    with pytest.raises(services.KnowledgeError):  # an edit based on version 1 would overwrite version 2
        services.do_save_article(article, actor=agent, title="x", body="y", expected_version=1)


def test_manual_from_resolved_case_prefills_complaint_investigation_and_solution(make_case: Any, agent: Any) -> None:
    case = make_case("急須の持ち手が割れていた", "届いた急須の持ち手が割れていました。", category="defect",
                     solution="写真を確認のうえ交換品を発送", landing_point="交換で了承")
    case_services.do_add_interaction(case, actor=agent, kind=InteractionKind.NOTE, channel=Channel.OTHER,
                                     body="倉庫で同ロットを確認、梱包材不足が原因")
    with pytest.raises(services.KnowledgeError):
        services.do_manual_from_case(case, actor=agent)
    case = case_services.do_update_case(case, actor=agent, expected_version=case.version, changes={"status": "resolved"})
    article = services.do_manual_from_case(case, actor=agent)
    assert article.state == ArticleState.DRAFT and article.visibility == Visibility.INTERNAL
    assert article.source_case == case and article.category == case.category
    for text in ("届いた急須の持ち手が割れていました。", "倉庫で同ロットを確認、梱包材不足が原因", "写真を確認のうえ交換品を発送", "交換で了承"):
        assert text in article.body


def test_manual_button_on_resolved_case_opens_the_draft(client: Any, agent: Any, make_case: Any) -> None:
    case = make_case(solution="再発送しました")
    case_services.do_update_case(case, actor=agent, expected_version=case.version, changes={"status": "resolved"})
    client.force_login(agent)
    assert "マニュアル化" in client.get(f"/cases/{case.pk}/parts/side/").content.decode()  # side panels of the case page
    response = client.post(f"/knowledge/cases/{case.pk}/manual/")
    article = Article.objects.get(source_case=case)
    assert response.status_code == 302 and response["Location"] == f"/knowledge/articles/{article.pk}/edit/"
    assert client.get(response["Location"]).status_code == 200


def test_public_faq_needs_no_login_and_hides_drafts_and_manuals(client: Any) -> None:
    public = publish("配送が遅れている場合", "## 確認すること\n\n問い合わせ番号で確認してください。")
    draft = publish("下書き", "x", state=ArticleState.DRAFT)
    manual = publish("社内手順", "x", visibility=Visibility.INTERNAL)
    index = client.get("/faq/")
    assert index.status_code == 200 and "配送が遅れている場合" in index.content.decode()
    page = client.get(f"/faq/{public.pk}/").content.decode()
    assert "<h2>確認すること</h2>" in page and 'name="viewport"' in page
    assert client.get(f"/faq/{draft.pk}/").status_code == 404
    assert client.get(f"/faq/{manual.pk}/").status_code == 404
    assert "社内手順" not in index.content.decode()


def test_public_faq_search_finds_by_japanese_word_only_public(client: Any) -> None:
    publish("返品の方法", "到着後8日以内なら返品できます。")
    publish("社内：返品の裏技", "返品の社内手順", visibility=Visibility.INTERNAL)
    html = client.get("/faq/", {"q": "返品"}).content.decode()
    assert "<mark>返品</mark>の方法" in html
    assert "裏技" not in html


def test_article_editor_saves_a_new_version(client: Any, lead: Any) -> None:
    client.force_login(lead)
    response = client.post("/knowledge/articles/new/", {
        "title": "クーポンが使えない", "body": "半角で入力してください。", "visibility": "public", "state": "published",
        "category": "", "tags": "クーポン、請求",
    })
    article = Article.objects.get(title="クーポンが使えない")
    assert response.status_code == 302
    assert sorted(t.name for t in article.tags.all()) == ["クーポン", "請求"]
    assert client.get(f"/knowledge/articles/{article.pk}/").status_code == 200
    assert client.get("/knowledge/").status_code == 200


def test_an_agent_writes_drafts_but_cannot_publish_to_the_public_faq(client: Any, agent: Any, lead: Any) -> None:
    client.force_login(agent)
    response = client.post("/knowledge/articles/new/", {
        "title": "全品返金します", "body": "いつでも全額返金します。", "visibility": "public", "state": "published",
        "category": "", "tags": "",
    })
    assert response.status_code == 400
    assert "リーダーか管理者だけが変更できます" in response.content.decode()
    assert not Article.objects.filter(title="全品返金します").exists()

    draft = services.do_save_article(None, actor=agent, title="送料の説明", body="下書きです。",
                                     visibility=Visibility.PUBLIC, state=ArticleState.DRAFT)
    internal = services.do_save_article(None, actor=agent, title="社内メモ", body="社内向けです。",
                                        visibility=Visibility.INTERNAL, state=ArticleState.PUBLISHED)
    assert draft.pk and internal.pk
    public = publish("送料について", "3,000円以上で無料です。", actor=lead)
    with pytest.raises(services.KnowledgeError):  # nor change what is already public
        services.do_save_article(public, actor=agent, title="送料について", body="すべて無料です。",
                                 visibility=Visibility.INTERNAL, state=ArticleState.DRAFT, expected_version=1)
    assert "3,000円以上で無料" in client.get(f"/faq/{public.pk}/").content.decode()


def test_search_snippets_and_inserted_text_have_no_markdown_marks(client: Any, agent: Any, make_case: Any) -> None:
    publish("配送の確認方法", "**問い合わせ番号**で配送状況を確認できます。\n\n- 荷物受付のままなら連絡ください")
    from madoguchi.knowledge.search import search

    [hit] = search("問い合わせ番号", kinds=["article"])
    assert "**" not in hit.body and "- 荷物" not in hit.body
    case = make_case("配送状況を知りたい", "問い合わせ番号で配送状況を確認したい")
    client.force_login(agent)
    panel = client.get(f"/knowledge/cases/{case.pk}/suggestions/").content.decode()
    assert 'data-kb-insert="問い合わせ番号で配送状況を確認できます。' in panel
