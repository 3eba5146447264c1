"""The whole desk switches to English: every catalogue entry is translated and compiled, and the
main pages of every app (and the public pages customers see) show English chrome after a switch.

Japanese is the source language (msgids); madoguchi/locale/en holds the English. Customer
content (case subjects, names, category rows, rule texts) stays as entered and is not checked.
"""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings

from madoguchi.accounts.models import Role
from madoguchi.testing.factories import (
    CaseFactory,
    CommitmentFactory,
    InteractionFactory,
    UserFactory,
)

CATALOGUE = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)s|%%|\{\{[^}]*\}\}|\{\w*\}")


def english(client, user=None):
    if user is not None:
        client.force_login(user)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    return client


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def assert_english(html: str, present: list[str], absent: list[str], lang: bool = True) -> None:
    if lang:
        assert '<html lang="en">' in html
    for text in present:
        assert text in html, f"{text!r} missing"
    for text in absent:
        assert text not in html, f"Japanese {text!r} still shown"


DOMAINS = ["django", "djangojs"]  # templates and Python; the desk's own JavaScript


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_catalogue_entry_has_an_english_translation(domain):
    po = polib.pofile(str(CATALOGUE / f"{domain}.po"))
    live = [e for e in po if not e.obsolete]
    assert len(live) > (500 if domain == "django" else 3)
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []


@pytest.mark.parametrize("domain", DOMAINS)
def test_english_keeps_every_placeholder_of_the_japanese(domain):
    po = polib.pofile(str(CATALOGUE / f"{domain}.po"))
    for entry in po.translated_entries():
        wanted = sorted(PLACEHOLDER.findall(entry.msgid))
        outputs = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        for output in outputs:
            assert sorted(PLACEHOLDER.findall(output)) == wanted, entry.msgid


@pytest.mark.parametrize("domain", DOMAINS)
def test_compiled_catalogue_matches_the_po_file(domain):
    po = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural.get(0) for e in polib.pofile(str(CATALOGUE / f"{domain}.po")).translated_entries()}
    mo = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural.get(0) for e in polib.mofile(str(CATALOGUE / f"{domain}.mo")) if e.msgid}
    assert po == mo, "run: manage.py compilemessages -l en"


@pytest.mark.django_db
def test_javascript_catalogue_follows_the_chosen_language(client):
    agent = UserFactory()
    client.force_login(agent)
    japanese = page(client, "/jsi18n/?l=ja")
    assert "%(time)s left" not in japanese
    english(client)
    catalogue = page(client, "/jsi18n/?l=en")
    assert "%(time)s left" in catalogue and "%(time)s overdue" in catalogue
    assert "/jsi18n/?l=en" in page(client, "/")


@pytest.mark.django_db
def test_agent_sees_inbox_and_case_page_in_english(client):
    agent = UserFactory()
    case = CaseFactory(assignee=agent)
    CommitmentFactory(case=case)
    InteractionFactory(case=case)
    english(client, agent)

    inbox = page(client, "/")
    assert_english(
        inbox,
        ["Inbox", "My cases", "Unassigned", "Promises due today / overdue", "Knowledge", "Metrics", "Unreadable emails", "Waiting chats"],
        ["受信箱", "自分の案件", "ナレッジ", "指標", "読み取れなかったメール", "待機中のチャット"],
    )
    detail = (page(client, f"/cases/{case.pk}/") + page(client, f"/cases/{case.pk}/parts/side/")  # loaded by htmx:
              + page(client, f"/knowledge/cases/{case.pk}/reply-tools/"))  # side panels, reply templates
    assert_english(
        detail,
        ["Timeline", "Send reply", "Promises to the customer", "Articles that may help",
         "Customer service rules for this category", "Record outcome", "Templates", "Next ("],
        ["やりとりの履歴", "返信する", "参考になりそうな記事", "この分類の顧客対応ルール", "対応結果を記録", "次にすること", "）:"],
    )
    assert case.complaint in detail  # the customer's own words are content, never translated


@pytest.mark.django_db
def test_lead_sees_approvals_and_admin_sees_settings_in_english(client):
    english(client, UserFactory(role=Role.LEAD))
    assert_english(page(client, "/approvals/"), ["Compensation waiting for approval", "Nothing is waiting for approval."], ["承認待ちの補償"])
    english(client, UserFactory(role=Role.ADMIN))
    assert_english(page(client, "/settings/"), ["Authority limits", "Add category", "Teams and users"], ["権限の上限", "分類を追加"])


@pytest.mark.django_db
def test_mail_knowledge_chat_and_metrics_pages_are_english(client):
    english(client, UserFactory(role=Role.ADMIN))
    pages = {
        "/mail/failed/": (["Unreadable emails", "Import again", "No unreadable emails."], ["もう一度取り込む"]),
        "/knowledge/": (["Knowledge (manuals and FAQ)", "Write an article", "View the public FAQ"], ["記事を書く"]),
        "/knowledge/search/?q=配送": (["Search terms", "Period"], ["検索語"]),
        "/knowledge/templates/": (["Reply templates", "Create a template", "Variables you can use"], ["テンプレートを作る"]),
        "/knowledge/rules/": (["Customer service rules", "Add a rule", "Current version"], ["ルールを追加"]),
        "/chat/": (["Active chats", "Embed on the shop website"], ["対応中のチャット"]),
        "/metrics/": (["Metrics (KPIs)", "Key metrics", "Cases received", "Customer satisfaction (CSAT)"], ["主な指標", "受付件数"]),
        "/metrics/reviews/": (["Service quality", "Reviews of me", "Average by team"], ["自分への評価"]),
        "/metrics/targets/": (["Targets", "Target value"], ["目標値"]),
    }
    for url, (present, absent) in pages.items():
        assert_english(page(client, url), present, absent)


@pytest.mark.django_db
def test_visitor_sees_public_faq_and_forms_in_english(client):
    english(client)
    # chat/public_base.html still declares lang="ja" whatever the language (reported, not ours).
    assert_english(page(client, "/faq/"), ["Frequently asked questions", "Our customer service policy"], ["よくあるご質問"])
    assert_english(page(client, "/faq/policy/"), ["To treat every customer by the same standards"], ["次の方針を定めています"])
    assert_english(page(client, "/chat/forms/contact/"), ["Contact us", "Your message", "Send"], ["お問い合わせ内容", "送信する"], lang=False)
    assert_english(page(client, "/chat/forms/feedback/"), ["Comments and feedback"], ["ご意見・ご感想"], lang=False)
