"""Writes and domain rules of the knowledge capability. Knows nothing of HTTP."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable
from typing import Any

import nh3
from django.db import transaction
from django.db.models import OuterRef, Q
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt

from madoguchi.accounts.models import User
from madoguchi.cases.models import AuditEvent, Case, Category, InteractionKind
from madoguchi.customers.models import Customer
from madoguchi.knowledge import indexing
from madoguchi.knowledge.models import (
    Article,
    ArticleState,
    ArticleVersion,
    CustomerFlag,
    Rule,
    RuleTopic,
    RuleVersion,
    Tag,
    Visibility,
)


class KnowledgeError(ValueError):
    """A rule was broken; the message is shown to the user as it is (Japanese)."""


# CommonMark with raw HTML switched off, then nh3 as a second fence: article authors are
# staff, but a pasted customer e-mail must never become markup in the public FAQ.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
ALLOWED_TAGS = {
    "p", "br", "strong", "em", "ul", "ol", "li", "h1", "h2", "h3", "h4", "blockquote", "code", "pre",
    "a", "table", "thead", "tbody", "tr", "th", "td", "hr",
}


def render_markdown(text: str) -> SafeString:
    html = _markdown.render(text or "")
    clean = nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href", "title"}},
                      url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow")
    return mark_safe(clean)  # noqa: S308 - sanitised by nh3 just above


def plain_text(markdown: str) -> str:
    """The words of an article without Markdown marks, for search snippets and the index."""
    text = html.unescape(nh3.clean(_markdown.render(markdown or ""), tags=set()))
    return re.sub(r"\n{2,}", "\n", text).strip()


def parse_tags(text: str) -> list[str]:
    seen: list[str] = []
    for raw in text.replace("、", ",").replace("，", ",").split(","):
        name = raw.strip()[:50]
        if name and name not in seen:
            seen.append(name)
    return seen


@transaction.atomic
def do_save_article(
    article: Article | None, *, actor: User | None, title: str, body: str, visibility: str = Visibility.INTERNAL,
    state: str = ArticleState.DRAFT, category: Category | None = None, tags: Iterable[str] = (),
    source_case: Case | None = None, expected_version: int | None = None,
) -> Article:
    """Create or change an article; every save is kept as a numbered version with its author.
    What the public FAQ shows is the shop's word to its customers: only a lead or an admin
    publishes it, or changes an article that is already public."""
    if not title.strip() or not body.strip():
        raise KnowledgeError(_("タイトルと本文を入力してください。"))
    if actor is not None and not can_publish(actor) and (is_public(visibility, state) or (
        article is not None and is_public(article.visibility, article.state)
    )):
        raise KnowledgeError(_("公開FAQに載せる記事と公開中の記事は、リーダーか管理者だけが変更できます。下書きか社内向けとして保存してください。"))
    if article is None:
        article = Article(source_case=source_case, version=0)
    elif expected_version is not None and article.version != expected_version:
        raise KnowledgeError(_("この記事は他の人が先に更新しました。最新の内容を確認してから、もう一度保存してください。"))
    article.title, article.body = title.strip(), body
    article.visibility, article.state, article.category = visibility, state, category
    article.version += 1
    article.updated_by = actor
    article.save()
    names = list(tags)
    article.tags.set([Tag.objects.get_or_create(name=name)[0] for name in names])
    ArticleVersion.objects.create(
        article=article, number=article.version, title=article.title, body=body, visibility=visibility,
        state=state, tags=", ".join(names), author=actor,
    )
    indexing.index_article(article)
    return article


def can_publish(user: User) -> bool:
    """Leads and admins speak for the shop: public FAQ articles and handling rules."""
    return user.is_lead or user.is_admin


def is_public(visibility: str, state: str) -> bool:
    return visibility == Visibility.PUBLIC and state == ArticleState.PUBLISHED


def draft_from_case(case: Case) -> dict[str, str]:
    """Title and Markdown body of a manual entry made from a resolved case (マニュアル化)."""
    notes = [i.body.strip() for i in case.interactions.filter(kind=InteractionKind.NOTE).order_by("occurred_at", "id")]
    investigation = "\n".join(f"- {line}" for note in notes for line in note.splitlines() if line.strip())
    sections = [
        ("よくあるお問い合わせ（お客様の言葉）", "\n".join(f"> {line}" for line in case.complaint.splitlines()) or "（未記入）"),
        ("確認したこと（調査）", investigation or "（社内メモはありません）"),
        ("解決策・ご提案", case.solution.strip() or "（未記入）"),
        ("着地点", case.landing_point.strip() or "（未記入）"),
    ]
    body = "\n\n".join(f"## {heading}\n\n{text}" for heading, text in sections)
    return {"title": f"{case.subject}への対応", "body": body + f"\n\n（案件 {case.number} から作成）"}


@transaction.atomic
def do_manual_from_case(case: Case, *, actor: User) -> Article:
    if case.status not in ("resolved", "closed"):
        raise KnowledgeError(_("マニュアル化できるのは解決済みの案件だけです。"))
    draft = draft_from_case(case)
    return do_save_article(None, actor=actor, title=draft["title"], body=draft["body"], category=case.category,
                           source_case=case, tags=[case.category.name])


# --- Handling rules ----------------------------------------------------------------------

def version_in_force(rule: Rule, on: dt.date) -> RuleVersion | None:
    """The version whose effective date is the latest one not after `on`."""
    return rule.versions.filter(effective_from__lte=on).order_by("-effective_from", "-id").first()


def local_date(at: dt.datetime) -> dt.date:
    return timezone.localtime(at).date()


def rules_for_case(case: Case) -> list[RuleVersion]:
    """The rules of the case's category (and rules for every category) in force when the
    case was received, so an agent applies the rule the customer was promised."""
    return rules_panel(case, abusive=False)[0]


# Ordered so the first version met of each rule is the one in force (rules_for_case keeps it).
_RULE_ORDER = ("rule__topic", "rule__code", "rule_id", "-effective_from", "-id")


def rules_panel(case: Case, *, abusive: bool = True) -> tuple[list[RuleVersion], list[RuleVersion]]:
    """The case page's rules panel in ONE query whatever the number of rules: the rules in force
    for the case (rules_for_case: every version of its category's rules and of the rules for
    every category in force on the day it was received, the latest per rule kept), and with
    `abusive` every version of the abusive-customer rules, newest first (the flag form's
    choices: RuleVersion's own order)."""
    on = local_date(case.received_at)
    applies = (Q(rule__category=case.category_id) | Q(rule__category__isnull=True)) & Q(effective_from__lte=on)
    versions = list(RuleVersion.objects.filter(applies | Q(rule__topic=RuleTopic.ABUSIVE) if abusive else applies)
                    .select_related("rule").order_by(*_RULE_ORDER))
    found: dict[int, RuleVersion] = {}
    for version in versions:
        if version.effective_from <= on and version.rule.category_id in (None, case.category_id):
            found.setdefault(version.rule_id, version)
    flag_choices = [v for v in versions if v.rule.topic == RuleTopic.ABUSIVE] if abusive else []
    flag_choices.sort(key=lambda v: (v.effective_from, v.pk), reverse=True)
    return list(found.values()), flag_choices


@transaction.atomic
def do_add_rule_version(rule: Rule, *, actor: User | None, effective_from: dt.date, body: str) -> RuleVersion:
    if actor is not None and not can_publish(actor):
        raise KnowledgeError(_("顧客対応ルールを変更できるのはリーダーと管理者だけです。"))
    if not body.strip():
        raise KnowledgeError(_("ルールの本文を入力してください。"))
    if rule.versions.filter(effective_from=effective_from).exists():
        raise KnowledgeError(_("同じ適用開始日の版がすでにあります。日付を変えてください。"))
    return RuleVersion.objects.create(rule=rule, effective_from=effective_from, body=body, author=actor)


@transaction.atomic
def do_flag_customer(customer: Customer, *, actor: User, rule_version: RuleVersion | None, reason: str,
                     case: Case | None = None) -> CustomerFlag:
    """Flag a customer as abusive; without a cited rule the flag is refused (seed 004)."""
    if rule_version is None:
        raise KnowledgeError(_("要注意として記録するには、根拠となる顧客対応ルールを選んでください。"))
    if not reason.strip():
        raise KnowledgeError(_("具体的な言動（いつ、何を言われたか）を入力してください。"))
    if rule_version.effective_from > timezone.localdate():
        raise KnowledgeError(_("まだ適用されていないルールは引用できません。"))
    return CustomerFlag.objects.create(customer=customer, rule_version=rule_version, reason=reason.strip(),
                                       case=case, flagged_by=actor)


@transaction.atomic
def do_clear_flag(flag: CustomerFlag, *, actor: User, reason: str) -> CustomerFlag:
    """Lift a 要注意 flag: a staff member says why (the demand was withdrawn, it was a
    misunderstanding, the rule changed). The flag stays, with who lifted it, when and why, in the
    customer's history, and the case it was raised on records it."""
    reason = reason.strip()
    if not reason:
        raise KnowledgeError(_("解除する理由を入力してください（例: 誤解が解け、要求を取り下げられた）。"))
    locked = CustomerFlag.objects.select_for_update().get(pk=flag.pk)
    if locked.cleared_at is not None:
        raise KnowledgeError(_("この記録はすでに解除されています。"))
    locked.cleared_at, locked.cleared_by, locked.clear_reason = timezone.now(), actor, reason[:2000]
    locked.save(update_fields=["cleared_at", "cleared_by", "clear_reason"])
    if locked.case_id is not None:
        AuditEvent.objects.create(case_id=locked.case_id, actor=actor, action="customer_flag_cleared",
                                  changes={"flag": locked.pk, "reason": locked.clear_reason})
    return locked


def flagged_customers(customer_ids: set[int]) -> dict[int, str]:
    """customer id → the inbox's 要注意 mark, for those with a flag in force (one query)."""
    flagged = CustomerFlag.objects.filter(customer_id__in=customer_ids, cleared_at__isnull=True).values_list("customer_id", flat=True)
    mark = _("要注意")
    return dict.fromkeys(flagged, mark)


def flag_history(customer: Customer) -> list[CustomerFlag]:
    """Every flag of the customer, in force or lifted, newest first."""
    return list(customer.knowledge_flags.select_related("rule_version__rule", "flagged_by", "cleared_by").order_by("-created_at", "-pk"))


def flags_of_page_case() -> Any:
    """active_flags' rows of the case's customer, for the case page's case query
    (cases.page.CASE_PAGE_EXISTS)."""
    return CustomerFlag.objects.filter(customer=OuterRef("customer_id"), cleared_at__isnull=True)


def active_flags(customer: Customer) -> list[CustomerFlag]:
    return list(customer.knowledge_flags.filter(cleared_at__isnull=True).select_related("rule_version__rule", "flagged_by"))
