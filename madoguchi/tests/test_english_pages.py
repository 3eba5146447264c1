"""Every page of the desk, in English, shows no Japanese of its own.

Each staff role (agent, team lead, admin) chooses English and opens every page the URL
configuration has (every named pattern is either visited here or listed in NOT_PAGES with the
reason), with the data of a small demo shop (`madoguchi demo`, written in Japanese as a real shop's
would be) plus the things the demo has no example of (a chat, a survey, a follow-up, a quality
review, a flag, a possible same person, unreadable and undeliverable mail, settings changes).
Visitors' pages (login, FAQ, forms, survey) and the error pages are opened the same way.

The rule for what may stay Japanese:
- **Content** may: what people typed or the shop set up, i.e. every text value stored in the
  database (customers' messages, names, case records staff wrote, categories, rules, templates,
  articles, team and user names) and what the visitor typed into the request (search words). The
  text of a page is checked node by node: a text node that is (part of) a stored value is content,
  and stored values inside a longer node are cut out before the rest is checked.
- **Words written to a customer** may: they are in the customer's language (Japanese), so they
  are marked up as Japanese: any element with ``lang`` other than ``en`` (a reply draft, a chat
  greeting, the language switch's 「日本語」) is left out with everything inside it.
- **Everything else** is the desk speaking, and must be English: no hiragana, katakana, kanji or
  full-width punctuation in text nodes or in the title, placeholder, aria-label and alt
  attributes. Messages the desk itself stores for later (notifications) are not content: they
  are shown in the reader's language.
And every HTML page says ``<html lang="en">``.

It passes only with an English catalogue that translates every msgid (the lead fills
madoguchi/locale/en from /work/notes/tr-*.json with /work/notes/fill_po.py, then compiles).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from madoguchi.accounts.models import Role, User

JAPANESE = re.compile(r"[\u3000-\u303f\u3040-\u309f\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff01-\uff60\uff61-\uff9f]")
SEEN_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt"}
SKIPPED_ELEMENTS = {"script", "style", "textarea"}  # textarea: a form's value (content or a draft)
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

# Named URL patterns that are not pages: POST-only actions (a GET is refused with 405 and no
# body), downloads of stored files, and machinery. Each of them is asserted to be in the
# configuration, so a renamed or new pattern makes this test ask to be looked at.
NOT_PAGES = {
    "listening:answered": "POST only", "listening:case": "POST only", "listening:dismiss": "POST only",
    "listening:kind": "POST only", "listening:dismiss_noise": "POST only", "listening:spike_seen": "POST only",
    "logout": "POST only",
    "set_language": "POST only (the switch itself)",
    "javascript-catalog": "the JavaScript catalogue: checked by test_english.py",
    "accounts:save_limits": "POST only", "accounts:save_customer_period": "POST only",
    "accounts:add_category": "POST only", "accounts:save_survey_delay": "POST only",
    "accounts:save_min_sample": "POST only", "accounts:add_mailbox": "POST only", "accounts:save_mailbox": "POST only",
    "customers:confirm_name": "POST only", "knowledge:clear_flag": "POST only",
    "customers:merge": "POST only", "customers:confirm_same_person": "POST only",
    "customers:dismiss_same_person": "POST only",
    "notifications:mark_read": "POST only", "notifications:mail_preferences": "POST only (its section is on accounts:me)", "accounts:unlock": "POST only",
    "accounts:save_security": "POST only", "privacy:erase": "POST only",
    "privacy:export": "a JSON download of the customer's stored data",
    "exports:csv": "a CSV download (its headers are msgids: tests in exports/tests)",
    "exports:case_pdf": "a PDF download of the printable case (exports:case_print is its page)",
    "prevention:report_pdf": "a PDF download of the prevention report (prevention:report is its page)",
    "prevention:root_cause": "POST only", "prevention:cluster_root_cause": "POST only",
    "x_account:retry": "POST only", "x_account:send_by_dm": "POST only",
    "login_2fa": "only after a right password (else a redirect to the login); its template is the one "
                 "accounts:two_factor shows",
    "coupons:retry_platform": "POST only", "shopify:register_webhooks": "POST only",
    "cases:tag": "POST only (htmx: answers the case page's tags part)", "cases:untag": "POST only (htmx)",
    "cases:fields": "POST only (htmx: answers the case page's tags part)", "cases:bulk": "POST only (the inbox's bulk bar)",
    "cases:view_save": "POST only", "cases:view_delete": "POST only",
    "accounts:tag_add": "POST only", "accounts:tag_delete": "POST only", "accounts:field_add": "POST only",
    "accounts:field_save": "POST only",
    "accounts:availability": "POST only", "accounts:save_team_assignment": "POST only", "cases:take": "POST only",
    "healthz": "JSON for monitors, no words",
    "shopsettings:save_weekly": "POST only", "shopsettings:add_closed": "POST only",
    "shopsettings:delete_closed": "POST only", "shopsettings:sla_delete": "POST only", "shopsettings:invite": "POST only",
    "shopsettings:add_team": "POST only", "shopsettings:set_active": "POST only", "shopsettings:password_link": "POST only",
    "mail:raw_retry": "POST only", "mail:outbound_retry": "POST only",
    "mail:held_approve": "POST only", "mail:held_return": "POST only (a refused return shows mail:approvals)",
    "mail:held_cancel": "POST only", "shopsettings:department_delete": "POST only",
    "mail:raw_download": "the stored mail itself", "mail:attachment": "a stored file",
    "line:webhook": "POST only (LINE calls it)", "line:account_webhook": "POST only (LINE calls it)",
    "customers:add_identity": "POST only", "shopsettings:line_quota": "POST only", "line:retry": "POST only", "line:attachment": "a stored file",
    "chat:take": "POST only", "chat:transfer": "POST only", "chat:end": "POST only",
    "chat:widget_js": "the widget on the shop's site speaks to the shop's customers (Japanese)",
    "chat:widget_upload": "POST only (widget)", "chat:widget_offline": "POST only (widget)",
    "chat:widget_file": "a stored file", "chat:form_attachment": "a stored file",
    "knowledge:manual_from_case": "POST only", "knowledge:flag_customer": "POST only",
    "knowledge:reply_hints": "POST only (hints for the reply being written)",
    "faq:feedback": "POST only",
    "metrics:follow_up_done": "POST only", "metrics:outcome": "POST only (its form is on the case page)",
    "cases:edit": "POST only (its form is the case page's part)", "cases:interaction": "POST only", "cases:reply": "POST only", "cases:handover": "POST only",
    "cases:commitment_add": "POST only", "cases:commitment_close": "POST only",
    "cases:compensation_add": "POST only", "cases:compensation_decide": "POST only",
    "cases:merge": "POST only (its form is the case page's part)", "cases:merge_undo": "POST only",
    "cases:link": "POST only (its form is the case page's part)", "cases:unlink": "POST only",
    "shop:sync_now": "POST only", "base_shop:connect": "POST only (then off to BASE)",
    "base_shop:callback": "BASE's redirect back: always redirects to shop:sync",
    "shopify:webhook": "POST only (Shopify's webhooks, JSON)",
    "shop_desk:case_unlink": "POST only", "shop_desk:delivery_contact": "POST only",
    "shop:carrier_add": "POST only (its form is on the carriers page)", "shop:carrier_delete": "POST only",
    "shop:days_save": "POST only (its form is on the carriers page)", "shop:days_delete": "POST only",
    "coupons:issue": "POST only (its form is the case page's coupon panel)",
    "api_tokens:revoke": "POST only", "webhooks:toggle": "POST only", "webhooks:delete": "POST only",
    "progress:link_make": "POST only", "progress:link_revoke": "POST only",
    "progress:notice_send": "POST only", "progress:notice_dismiss": "POST only",
    "progress:page": "the customer's status page speaks to the shop's customers (Japanese, lang=ja)",
}


# --- the shop -----------------------------------------------------------------------------

def build_shop() -> dict[str, object]:
    """The demo shop, and one of each thing the demo does not make."""
    from madoguchi.accounts.services import do_set_customer_period_days
    from madoguchi.cases.models import Case, Channel, Compensation, Status
    from madoguchi.chat.models import ChatSession, SessionState
    from madoguchi.customers.models import IdentityKind, PossibleMatch
    from madoguchi.demo.loader import load_demo
    from madoguchi.knowledge.models import Article, ReplyTemplate, Rule, RuleTopic
    from madoguchi.knowledge.services import do_flag_customer
    from madoguchi.mail.models import OutboundMessage, RawMessage
    from madoguchi.metrics.models import FollowUp, Survey
    from madoguchi.metrics.services import do_record_outcome, do_review, do_set_min_sample
    from madoguchi.metrics.survey import do_answer, do_schedule, token_for
    from madoguchi.testing.factories import (
        CaseFactory,
        CustomerFactory,
        InteractionFactory,
        UserFactory,
    )

    load_demo(cases=24)
    admin = UserFactory(username="owner", display_name="店長 大野", role=Role.ADMIN)  # the demo leaves the admin to the shop
    lead = User.objects.filter(role=Role.LEAD).first()
    agent = User.objects.filter(role=Role.AGENT).first()
    assert admin and lead and agent
    case = Case.objects.filter(channel=Channel.EMAIL, assignee__isnull=False).exclude(status=Status.CLOSED).first()
    assert case is not None
    resolved = Case.objects.filter(status=Status.RESOLVED, assignee__isnull=False).first() or case

    chat_case = CaseFactory(channel=Channel.CHAT, subject="チャットでのお問い合わせ", team=agent.team)
    InteractionFactory(case=chat_case, channel=Channel.CHAT, body="注文した湯呑みが割れていました。")
    ChatSession.objects.create(case=chat_case, name="チャット 花子", state=SessionState.ACTIVE, taken_by=agent,
                               taken_at=timezone.now() - dt.timedelta(minutes=17), team=agent.team)
    waiting = CaseFactory(channel=Channel.CHAT, subject="チャット（待機中）", team=agent.team)
    ChatSession.objects.create(case=waiting, name="待機 次郎", state=SessionState.WAITING, team=agent.team)

    do_record_outcome(resolved, actor=agent, flags={"resolved": True, "refund": True})
    do_review(resolved, reviewer=admin, scores=dict.fromkeys(["first_impression", "speed", "accuracy", "empathy", "flexibility", "reassurance"], 4),
              comment="丁寧な対応でした。", notes={"speed": "もう少し早く"})
    survey = do_schedule(resolved)
    Survey.objects.filter(pk=survey.pk).update(state="sent", sent_at=timezone.now(), expires_at=timezone.now() + dt.timedelta(days=14))
    answered_case = Case.objects.filter(status__in=[Status.RESOLVED, Status.CLOSED]).exclude(pk=resolved.pk).first()
    assert answered_case is not None
    answered = do_schedule(answered_case)
    Survey.objects.filter(pk=answered.pk).update(state="sent", sent_at=timezone.now(), expires_at=timezone.now() + dt.timedelta(days=14))
    do_answer(token_for(answered), rating="1", nps="0", comment="二度と買いません。")
    assert FollowUp.objects.exists()

    abusive = Rule.objects.filter(topic=RuleTopic.ABUSIVE).first()
    assert abusive is not None
    do_flag_customer(case.customer, actor=lead, rule_version=abusive.versions.order_by("-effective_from").first(),
                     reason="長時間の電話で同じ要求を繰り返した", case=case)
    visitor = CustomerFactory(name="似ている 太郎")
    PossibleMatch.objects.create(customer=visitor, existing=case.customer, kind=IdentityKind.EMAIL,
                                 value="taro@example.jp", channel=Channel.CHAT)
    CaseFactory(customer=visitor, channel=Channel.CHAT, subject="同じ方かもしれない件")
    RawMessage.objects.create(source="smtp", raw=b"Subject: x\r\n\r\nx", size=14, sha256="f" * 64, content_hash="f" * 64,
                              state="failed", error="文字コードを判別できませんでした", subject="【至急】返金について",
                              from_address="angry@example.jp")
    OutboundMessage.objects.create(kind="reply", case=case, from_address="support@example.jp", to_address="bad@example.jp",
                                   subject="Re: 商品がまだ届きません", body="お待たせしております。", message_id="<x@madoguchi>",
                                   state="failed", attempts=3, last_error="550 5.1.1 User unknown")
    do_set_min_sample(5)
    do_set_customer_period_days(30)
    from madoguchi.coupons.services import do_issue_coupon

    do_issue_coupon(resolved, actor=agent, kind="percent", value=10, ledger_yen=600, reason="次回のお買い物で使えるお詫び",
                    expires_on=timezone.localdate() + dt.timedelta(days=30))
    pending = Compensation.objects.filter(state="pending").first()
    from madoguchi.shop.desk import do_link_order
    from madoguchi.shop.models import CarrierSite, DeliveryDays, Order

    order = Order.objects.filter(customer=case.customer).first() or Order.objects.first()
    assert order is not None
    do_link_order(case, actor=agent, order=order, items=list(order.items.all()), understood_as="箱入りだと思った",
                  other_customer_confirmed=True)
    CarrierSite.objects.create(code="ecohai", name="エコ配", url_pattern="https://example.jp/track?no={number}")
    DeliveryDays.objects.create(carrier="yamato", region="", days=1)
    DeliveryDays.objects.create(carrier="sagawa", region="kanto", days=1)
    # The case page's status-page panel with its link and a late notice waiting (issue 22 item 9).
    from madoguchi.cases.services import do_add_commitment
    from madoguchi.progress.models import LateNotice
    from madoguchi.progress.services import do_get_link

    do_get_link(case, actor=agent)
    late = do_add_commitment(case, actor=agent, description="交換品の発送日をお知らせします",
                             due_at=timezone.now() + dt.timedelta(hours=1))
    LateNotice.objects.create(commitment=late, case=case, body="お客様\n\nお約束の日時に間に合わない見込みとなりました。",
                              new_due_at=timezone.now() + dt.timedelta(days=1))
    # Tags, custom fields and a saved view shown on the inbox, the case page and their settings (issue 22 item 3).
    from madoguchi.cases import labels, saved_views

    tag = labels.do_create_tag(actor=admin, name="返品希望", colour="red")
    labels.do_tag_case(case, tag, actor=agent)
    for label, kind, choices in (("購入店舗", "choice", ["本店"]), ("返金予定額", "number", []), ("来店日", "date", []),
                                 ("伝票番号", "text", [])):
        labels.do_define_field(None, actor=admin, label=label, kind=kind, choices=choices)
    saved_views.do_save_view(actor=agent, name="返品の案件", query=f"queue=all&tag={tag.pk}", shared=agent.team_id is not None)
    # A carrier's cluster of complaints with a spike this week, on the list, its page and the dashboard (issue 20 item 2).
    from madoguchi.patterns import services as patterns
    from madoguchi.patterns.tests.helpers import complaint_case

    wet = [complaint_case("置き配で雨に濡れていました。", carrier="yamato").pk for _n in range(6)]
    patterns.assign_cases(wet)
    patterns.refresh_clusters()
    return {
        "order": order, "cluster": patterns.cluster_of(Case.objects.get(pk=wet[0])),
        "case": case, "chat_case": chat_case, "resolved": resolved, "customer": case.customer,
        "article": Article.objects.first(), "template": ReplyTemplate.objects.first(), "rule": abusive,
        "survey": token_for(survey), "pending": pending,
        "roles": {"agent": agent, "lead": lead, "admin": admin},
    }


# --- what the pages say -------------------------------------------------------------------

def stored_texts() -> list[str]:
    """Every text value in the database except what the desk itself wrote (notifications)."""
    from madoguchi.notifications.models import Notification

    texts: set[str] = set()
    for model in apps.get_models():
        if model is Notification:
            continue
        fields = [f.attname for f in model._meta.concrete_fields if isinstance(f, (models.CharField, models.TextField, models.JSONField))]
        if not fields:
            continue
        for row in model._default_manager.values_list(*fields):
            for value in row:
                texts.update(_strings(value))
    return sorted((t for t in texts if JAPANESE.search(t)), key=len, reverse=True)


MARKDOWN = re.compile(r"\*\*|__|`|^#+ |^> |^[-*] |^\d+\. |\]\([^)]*\)|\[", re.M)


def _strings(value: object) -> Iterator[str]:
    """A stored text, each of its lines, and both again as shown after Markdown (articles, rules)."""
    if isinstance(value, str):
        for text in (value, MARKDOWN.sub("", value)):
            yield text.strip()
            yield from (line.strip() for line in text.splitlines() if line.strip())
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


class Content:
    """Stored values, found in a page's text: whole, as a part (a snippet, a shortened text), or
    inside a longer text (cut out, the rest is checked)."""

    def __init__(self, texts: list[str]) -> None:
        texts = sorted({" ".join(t.split()) for t in texts}, key=len, reverse=True)
        self.blob = "\x00".join(texts)
        self.by_start: dict[str, list[str]] = {}
        for text in texts:  # longest first
            self.by_start.setdefault(text[:1], []).append(text)

    def _stored_part(self, text: str) -> bool:
        shortened = text.removeprefix("...").removeprefix("…").removesuffix("...").removesuffix("…").strip()
        return not JAPANESE.search(shortened) or (len(shortened) >= 2 and shortened in self.blob)

    def strip(self, text: str) -> str:
        text = " ".join(text.split())
        if not JAPANESE.search(text):
            return ""
        if all(self._stored_part(part) for part in re.split(r": |：", text)):
            return ""  # a stored value, shortened, or several joined by colons ("product: passage…")
        out, i = [], 0
        while i < len(text):
            for value in self.by_start.get(text[i], ()):
                if text.startswith(value, i):
                    i += len(value)
                    out.append(" ")
                    break
            else:
                out.append(text[i])
                i += 1
        return "".join(out)


# Elements that start a new run of text; the others (a, span, mark, strong, small, ...) are part
# of the sentence around them, as a search result's highlighted word is.
BLOCKS = {
    "address", "article", "aside", "blockquote", "body", "br", "button", "dd", "details", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "head", "header",
    "hr", "html", "input", "label", "legend", "li", "main", "nav", "ol", "optgroup", "option", "p", "pre",
    "section", "select", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "title", "tr", "ul",
}


class Words(HTMLParser):
    """The runs of words of a page a reader sees, leaving out elements in another language than
    English; and the words of the title, placeholder, aria-label and alt attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, skipped)
        self.found: list[str] = []
        self.run: list[str] = []
        self.html_lang = ""

    def skipping(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def flush(self) -> None:
        text = "".join(self.run).strip()
        if text:
            self.found.append(text)
        self.run = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.html_lang = values.get("lang") or ""
        if tag in BLOCKS:
            self.flush()
        lang = values.get("lang")
        skipped = self.skipping() or tag in SKIPPED_ELEMENTS or (lang is not None and tag != "html" and not lang.startswith("en"))
        if not skipped:
            self.found.extend(v for k, v in attrs if k in SEEN_ATTRIBUTES and v)
        if tag not in VOID:
            self.stack.append((tag, skipped))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCKS:
            self.flush()
        if not self.skipping():
            self.found.extend(v for k, v in attrs if k in SEEN_ATTRIBUTES and v)

    def handle_endtag(self, tag: str) -> None:
        if tag in BLOCKS:
            self.flush()
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                break

    def handle_data(self, data: str) -> None:
        if not self.skipping():
            self.run.append(data)

    def close(self) -> None:
        super().close()
        self.flush()


def japanese_of_the_desk(body: str, content_type: str, content: Content) -> list[str]:
    if "html" in content_type:
        parser = Words()
        parser.feed(body)
        parser.close()
        texts = parser.found
    else:
        texts = [html.unescape(line) for line in body.splitlines()]
    left = (content.strip(text) for text in texts)
    return [" ".join(text.split()) for text in left if JAPANESE.search(text)]


# --- the pages ------------------------------------------------------------------------------

def named_patterns() -> list[str]:
    def walk(patterns: list, namespace: str | None) -> Iterator[str]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":  # Django's admin: Django's own English
                    continue
                if pattern.namespace == "api-v1":  # the REST API: JSON, its messages in api/tests
                    continue
                yield from walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                yield f"{namespace}:{pattern.name}" if namespace else pattern.name

    return list(walk(get_resolver().url_patterns, None))


def desk_pages(shop: dict) -> dict[str, list[str]]:
    """URL name → the URLs opened for it (queues, tabs and parts of one page count as more)."""
    from madoguchi.cases.views import FORM_PARTS
    from madoguchi.metrics.views import BREAKDOWNS

    case, chat_case, resolved = shop["case"], shop["chat_case"], shop["resolved"]
    ids = [case.pk, chat_case.pk, resolved.pk]
    article, template, rule = shop["article"], shop["template"], shop["rule"]
    return {
        "cases:inbox": ["/"] + [f"/?queue={q}" for q in ("mine", "unassigned", "team", "promises", "resolved", "all")],
        "cases:new": [reverse("cases:new")],
        "cases:detail": [reverse("cases:detail", args=[pk]) for pk in ids],
        "cases:part": [reverse("cases:part", args=[pk, part]) for pk in ids for part in ["side", *FORM_PARTS]],
        "cases:approvals": [reverse("cases:approvals")],
        "progress:notices": [reverse("progress:notices")],
        "customers:detail": [reverse("customers:detail", args=[shop["customer"].pk])],
        "notifications:list": [reverse("notifications:list")],
        "mail:failed": [reverse("mail:failed")],
        "mail:approvals": [reverse("mail:approvals")],
        "mail:held_edit": [reverse("mail:held_edit", args=[_held_reply(shop).pk])],
        "mail:forward": [reverse("mail:forward", args=[case.pk])],
        "chat:list": [reverse("chat:list")],
        "knowledge:articles": [reverse("knowledge:articles")],
        "knowledge:search": [reverse("knowledge:search"), reverse("knowledge:search") + "?q=配送"],
        "knowledge:article_new": [reverse("knowledge:article_new")],
        "knowledge:article": [reverse("knowledge:article", args=[article.pk])],
        "knowledge:article_edit": [reverse("knowledge:article_edit", args=[article.pk])],
        "knowledge:case_reply_tools": [reverse("knowledge:case_reply_tools", args=[pk]) for pk in ids],
        "knowledge:case_suggestions": [reverse("knowledge:case_suggestions", args=[pk]) for pk in ids],
        "knowledge:templates": [reverse("knowledge:templates")],
        "knowledge:template_new": [reverse("knowledge:template_new")],
        "knowledge:template_edit": [reverse("knowledge:template_edit", args=[template.pk])],
        "knowledge:rules": [reverse("knowledge:rules")],
        "knowledge:rule": [reverse("knowledge:rule", args=[rule.pk])],
        "metrics:dashboard": [reverse("metrics:dashboard")],
        "metrics:breakdown": [reverse("metrics:breakdown", args=[dim]) for dim in BREAKDOWNS],
        "metrics:targets": [reverse("metrics:targets")],
        "metrics:review": [reverse("metrics:review", args=[resolved.pk])],
        "metrics:reviews": [reverse("metrics:reviews")],
        "metrics:follow_ups": [reverse("metrics:follow_ups")],
        "accounts:settings": [reverse("accounts:settings")],
        "accounts:audit": [reverse("accounts:audit")],
        "accounts:me": [reverse("accounts:me")],
        "api_tokens:list": [reverse("api_tokens:list")],
        "webhooks:list": [reverse("webhooks:list")],
        "accounts:two_factor": [reverse("accounts:two_factor")],
        "accounts:access_log": [reverse("accounts:access_log")],
        "accounts:team": [reverse("accounts:team")],
        "accounts:labels": [reverse("accounts:labels")],
        "jobs:status": [reverse("jobs:status")],
        "shop:import_orders": [reverse("shop:import_orders")],
        "shop:import_run": [reverse("shop:import_run", args=[_import_run().pk])],
        "shop:sync": [reverse("shop:sync")],
        "shop:carriers": [reverse("shop:carriers")],
        "shop_desk:find": [reverse("shop_desk:find"), reverse("shop_desk:find") + "?q=1"],
        "shop_desk:case_orders": [reverse("shop_desk:case_orders", args=[pk]) + query for pk in ids for query in ("", "?q=1")],
        "shop_desk:case_link": [reverse("shop_desk:case_link", args=[pk, shop["order"].pk]) for pk in ids],
        "shop_desk:customer_orders": [reverse("shop_desk:customer_orders", args=[shop["customer"].pk])],
        "shop_desk:delivery_watch": [reverse("shop_desk:delivery_watch")],
        "fans:fans": [reverse("fans:fans"), reverse("fans:fans") + "?within_days=abc"],
        "fans:win_back": [reverse("fans:win_back"), reverse("fans:win_back") + "?min_days=9&max_days=1"],
        "fans:rule": [reverse("fans:rule")],
        "listening:queue": [reverse("listening:queue") + query for query in ("", "?kind=praise&state=all", "?kind=x&cursor=y")],
        "listening:import": [reverse("listening:import")],
        "listening:import_run": [reverse("listening:import_run", args=[_post_import().pk])],
        "coupons:case_panel": [reverse("coupons:case_panel", args=[pk]) for pk in ids],
        "exports:index": [reverse("exports:index")],
        "exports:list": [reverse("exports:list", args=[code]) + query for code in ("cases", "customers", "compensations", "promises")
                         for query in ("", "?date_from=2026-13-01&status=x")],
        "exports:case_print": [reverse("exports:case_print", args=[pk]) for pk in ids],
        "shopsettings:hours": [reverse("shopsettings:hours"), reverse("shopsettings:hours") + "?year=abc"],
        "shopsettings:sla": [reverse("shopsettings:sla")],
        "shopsettings:sla_new": [reverse("shopsettings:sla_new")],
        "shopsettings:sla_edit": [reverse("shopsettings:sla_edit", args=[_sla_policy().pk])],
        "shopsettings:chat": [reverse("shopsettings:chat")],
        "shopsettings:departments": [reverse("shopsettings:departments")],
        "shopsettings:department_edit": [reverse("shopsettings:department_edit", args=[_department().pk])],
        "shopsettings:line": [reverse("shopsettings:line")],
        "shopsettings:line_edit": [reverse("shopsettings:line_edit", args=[_line_account().pk])],
        "shopsettings:users": [reverse("shopsettings:users")],
        "shopsettings:team_edit": [reverse("shopsettings:team_edit", args=[_team().pk])],
        "prevention:index": [reverse("prevention:index")],
        "prevention:new": [reverse("prevention:new"), reverse("prevention:new") + f"?case={case.pk}"],
        "prevention:report": [reverse("prevention:report", args=[_countermeasure().pk])],
        "prevention:edit": [reverse("prevention:edit", args=[_countermeasure().pk])],
        "shopsettings:user_edit": [reverse("shopsettings:user_edit", args=[shop["roles"]["agent"].pk])],
        "patterns:list": [reverse("patterns:list"), reverse("patterns:list") + "?spikes=1&category=x&cursor=y"],
        "patterns:cluster": [reverse("patterns:cluster", args=[shop["cluster"].pk])],
        "patterns:breakdown": [reverse("patterns:breakdown", args=[dim]) for dim in ("product", "passage", "carrier")],
    }


def _held_reply(shop: dict):  # type: ignore[no-untyped-def]
    """A reply waiting for approval, returned with a comment (mail.held), on the shop's case."""
    from madoguchi.mail.models import HeldReply, HeldState

    found = HeldReply.objects.first()
    if found is None:
        found = HeldReply.objects.create(case=shop["case"], author=shop["roles"]["agent"], body="山田様、本日発送いたします。",
                                         cc="husband@example.jp", state=HeldState.RETURNED, needs_approval=True,
                                         returned_by=shop["roles"]["lead"], comment="お詫びを先に")
        HeldReply.objects.create(case=shop["case"], author=shop["roles"]["agent"], body="山田様、お待たせしました。",
                                 state=HeldState.AWAITING, needs_approval=True)
    return found


def _department():  # type: ignore[no-untyped-def]
    from madoguchi.mail.models import Department

    return Department.objects.get_or_create(name="配送課", defaults={"address": "haiso@shop.example.jp"})[0]


def _team():  # type: ignore[no-untyped-def]
    from madoguchi.accounts.models import Team

    return Team.objects.get_or_create(name="配送チーム")[0]


def _countermeasure():  # type: ignore[no-untyped-def]
    """A countermeasure done a week ago, as its report shows it (the window not yet full)."""
    import datetime as dt

    from django.utils import timezone

    from madoguchi.prevention.models import Countermeasure

    return Countermeasure.objects.get_or_create(
        title="梱包材を二重にした", defaults={"cause": "shop", "done_on": timezone.localdate() - dt.timedelta(days=7),
                                         "detail": "割れ物は緩衝材を二重にして発送する。"})[0]


def _line_account():  # type: ignore[no-untyped-def]
    """A LINE account beyond the first (made on first use), with its quota as LINE reported it."""
    from django.utils import timezone

    from madoguchi.line.models import LineAccount, LineQuota

    account = LineAccount.objects.order_by("id").first()
    if account is None:
        account = LineAccount(name="Outlet")
        account.set_secrets("0123456789abcdef0123456789abcdef", "token")
        account.save()
        LineQuota.objects.create(account=account, limit=1000, used=250, fetched_at=timezone.now())
        LineQuota.objects.create(account=None, limited=False, used=12, fetched_at=timezone.now())
    return account


def _sla_policy():  # type: ignore[no-untyped-def]
    from madoguchi.metrics.models import SlaPolicy

    return SlaPolicy.objects.order_by("id").first()


def _import_run():  # type: ignore[no-untyped-def]
    """A finished order import with a problem line, as its result page shows it."""
    from madoguchi.shop.models import ImportRun, ImportRunState, OrderSource

    return ImportRun.objects.create(file_name="orders_export_1.csv", file_format=OrderSource.SHOPIFY, state=ImportRunState.DONE,
                                    finished_at=timezone.now(), created=12, updated=3, unchanged=40, skipped=1,
                                    problems=[[7, "合計金額が数字ではありません"]])


def _post_import():  # type: ignore[no-untyped-def]
    """Posts on the listening queue (a complaint, a praise, one handled), a spike, and a finished
    import of posts with a problem line."""
    from madoguchi.listening.models import ListeningPost, PostImport, PostState, Spike
    from madoguchi.shop.models import ImportRunState

    now = timezone.now()
    for number, (kind, state) in enumerate([("complaint", PostState.NEW), ("praise", PostState.NEW), ("noise", PostState.ANSWERED)]):
        ListeningPost.objects.get_or_create(platform="x", post_id=f"en-{number}", defaults={
            "author_handle": f"tea{number}", "author_name": "お茶好き", "text": "急須が届かない😡", "posted_at": now,
            "url": "https://x.com/tea/status/1", "kind": kind, "category": "delivery", "anger": 3.0, "state": state,
            "note": "お詫びを返信" if state == PostState.ANSWERED else "", "reply_url": "https://x.com/shop/status/2"})
    Spike.objects.get_or_create(subject="category:delivery", defaults={
        "label": "配送", "window_start": now, "window_end": now, "count": 9, "baseline": 1.0})
    return PostImport.objects.create(file_name="listening.csv", file_format="csv", state=ImportRunState.DONE, finished_at=now,
                                     created=30, skipped=1, problems=[[5, "投稿IDがありません。"]], bytes_total=10, bytes_done=10)


def visitor_pages(shop: dict) -> dict[str, list[str]]:
    article = shop["article"]
    return {
        "login": [reverse("login")],
        "faq:index": [reverse("faq:index")],
        "faq:policy": [reverse("faq:policy")],
        "faq:article": [reverse("faq:article", args=[article.pk])] if article.visibility == "public" else [],
        "chat:contact_form": [reverse("chat:contact_form")],
        "chat:feedback_form": [reverse("chat:feedback_form")],
        "metrics:survey": [reverse("metrics:survey", args=[shop["survey"]]), reverse("metrics:survey", args=["not-a-token"])],
        "shopsettings:password": [_password_link(shop), reverse("shopsettings:password", args=["MQ", "not-a-token"])],
    }


def _password_link(shop: dict) -> str:
    """The page an invitation's link opens (the path of a link made for the agent)."""
    from madoguchi.shopsettings.passwords import link_for

    return "/" + link_for(shop["roles"]["agent"]).split("://", 1)[1].split("/", 1)[1]


def in_english(client, user: User | None = None):
    if user is not None:
        client.force_login(user)
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/"}).status_code == 302
    return client


def read(client, url: str, content: Content, problems: list[str], who: str) -> int:
    response = client.get(url)
    content_type = response.get("Content-Type", "")
    if response.status_code == 405 or not response.content:
        return response.status_code
    body = response.content.decode()
    if "html" in content_type and "<html" in body and '<html lang="en"' not in body:
        problems.append(f"{who} {url}: <html lang> is not en")
    problems.extend(f"{who} {url}: {text[:120]}" for text in japanese_of_the_desk(body, content_type, content))
    return response.status_code


@pytest.fixture
def shop(db) -> dict:
    return build_shop()


def test_every_pattern_is_a_visited_page_or_said_why_not(shop):
    names = set(named_patterns())
    visited = set(desk_pages(shop)) | set(visitor_pages(shop))
    assert set(NOT_PAGES) <= names, sorted(set(NOT_PAGES) - names)
    assert names - set(NOT_PAGES) <= visited, sorted(names - set(NOT_PAGES) - visited)


def test_every_desk_page_is_english_for_every_role(client, shop):
    pages = desk_pages(shop)  # first: the examples some pages make (an import, posts) are stored texts too
    from madoguchi.shop.models import Passage

    # The passage breakdown quotes each passage's first 24 characters (patterns.services.named).
    content = Content(stored_texts() + ["配送"] + [text[:24] for text in Passage.objects.values_list("text", flat=True)])
    problems: list[str] = []
    for role, user in shop["roles"].items():
        in_english(client, user)
        for name, urls in pages.items():
            for url in urls:
                status = read(client, url, content, problems, role)
                if status not in (200, 302, 403, 404):
                    problems.append(f"{role} {name} {url}: status {status}")
        client.logout()
    assert problems == [], "Japanese of the desk in English pages:\n" + "\n".join(dict.fromkeys(problems))


def test_visitor_and_error_pages_are_english(client, shop):
    content = Content(stored_texts())
    problems: list[str] = []
    in_english(client)
    for urls in visitor_pages(shop).values():
        for url in urls:
            read(client, url, content, problems, "visitor")
    # The error pages: a missing page, a page the role may not see, a server error page.
    in_english(client, shop["roles"]["agent"])
    assert read(client, "/cases/999999/", content, problems, "agent") == 404
    assert read(client, reverse("accounts:settings"), content, problems, "agent") == 403
    from django.template.loader import render_to_string
    from django.utils import translation

    with translation.override("en"):
        problems.extend(f"500.html: {t}" for t in japanese_of_the_desk(render_to_string("500.html"), "text/html", content))
    assert problems == [], "Japanese of the desk in English pages:\n" + "\n".join(dict.fromkeys(problems))
