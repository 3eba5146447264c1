"""Reply templates: variable substitution, which templates a user sees, and the gentle
pre-send hints (seed 002). Knows nothing of HTTP."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _

from madoguchi.accounts import audit
from madoguchi.accounts.models import SettingsSource, User
from madoguchi.cases.models import Case, CommitmentState, InteractionKind
from madoguchi.knowledge.models import ReplyTemplate, TemplateKind

# Only {{ dotted.name }}: no tags, no filters, no attribute access on real objects. Values
# come from a flat dict built below, so a template cannot reach anything else.
VARIABLE = re.compile(r"\{\{\s*([a-z_]+(?:\.[a-z_]+)?)\s*\}\}")

TRACKING_URLS = {
    "yamato": "https://toi.kuronekoyamato.co.jp/cgi-bin/tneko?number00=1&number01={}",
    "sagawa": "https://k2k.sagawa-exp.co.jp/p/web/okurijosearch.do?okurijoNo={}",
    "japanpost": "https://trackings.post.japanpost.jp/services/srv/search/direct?reqCodeNo1={}",
    "seino": "https://track.seino.co.jp/cgi-bin/gnpquery.pgm?GNPNO1={}",
}


def tracking_url(carrier: str, number: str) -> str:
    pattern = TRACKING_URLS.get(carrier)
    return pattern.format(number) if pattern and number else ""


def variables_for(case: Case | None, agent: User | None, rule: Any = None) -> dict[str, str]:
    values = {"agent.name": str(agent) if agent else ""}
    if case is not None:
        values.update({"customer.name": case.customer.name, "case.number": case.number, "case.subject": case.subject})
        order = case.order
        values["order.number"] = order.number if order else case.fact_order_number
        values["order.tracking_number"] = order.tracking_number if order else ""
        values["order.tracking_url"] = tracking_url(order.carrier, order.tracking_number) if order else ""
    if rule is not None:
        values["rule.title"] = rule.title
        values["rule.url"] = settings.SITE_URL + reverse("faq:policy") + f"#rule-{rule.code}"
    return values


def render_template(text: str, values: dict[str, str], *, html: bool = False) -> str:
    """Replace each {{ name }} once. Values are never re-scanned, so a customer named
    "{{ agent.name }}" stays literally that; with html=True every value is escaped.
    An unknown variable is left as written so the agent sees and fixes it."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        value = values[name]
        return str(escape(value)) if html else value

    return VARIABLE.sub(replace, text)


def templates_for(user: User) -> list[ReplyTemplate]:
    """Shared templates, the user's team's, and the user's own."""
    scope = Q(team__isnull=True, owner__isnull=True) | Q(owner=user)
    if user.team_id:
        scope |= Q(team_id=user.team_id, owner__isnull=True)
    return list(ReplyTemplate.objects.filter(scope).select_related("rule", "set_category", "set_assignee")
                .order_by("kind", "position", "name"))


def default_frame(templates: list[ReplyTemplate]) -> tuple[ReplyTemplate | None, ReplyTemplate | None]:
    """The greeting and closing added to every reply: the most personal one wins."""

    def pick(kind: str) -> ReplyTemplate | None:
        found = [t for t in templates if t.kind == kind]
        found.sort(key=lambda t: (t.owner_id is None, t.team_id is None, t.position))
        return found[0] if found else None

    return pick(TemplateKind.GREETING), pick(TemplateKind.CLOSING)


def macro_summary(template: ReplyTemplate) -> list[str]:
    from madoguchi.knowledge.macros import summary

    return summary(template)


def reply_tools(case: Case, user: User) -> dict[str, Any]:
    """What the reply box's template picker needs: the user's body templates, and each one, the
    greeting and the closing already filled in for this case (reply_tools.js inserts them)."""
    templates = templates_for(user)
    greeting, closing = default_frame(templates)
    base = variables_for(case, user)

    def rendered(t: ReplyTemplate) -> str:
        values = variables_for(case, user, t.rule) if t.rule_id else base
        return render_template(t.body, values)

    body_templates = [t for t in templates if t.kind in (TemplateKind.BODY, TemplateKind.DECLINE)]
    data = {
        "greeting": rendered(greeting) if greeting else "",
        "closing": rendered(closing) if closing else "",
        # `macro`: what sending also changes (knowledge/macros.py), shown when it is inserted.
        "templates": [{"id": t.pk, "name": t.name, "text": rendered(t), "macro": macro_summary(t)} for t in body_templates],
        "hintsUrl": reverse("knowledge:reply_hints", args=[case.pk]),
    }
    return {"data": data, "templates": body_templates, "case": case}


# --- Pre-send hints -------------------------------------------------------------------------

GREETINGS = ("お世話になっております", "お世話になります", "いつもご利用", "このたびは", "この度は", "お問い合わせいただき",
             "お問い合わせありがとう", "ご連絡いただき", "ご連絡ありがとう", "お待たせ", "こんにちは", "はじめまして", "平素より")
QUESTION = re.compile(r"[?？]|でしょうか|いただけますか|いただけますでしょうか|ございますか|ますか[。\s]")
SOLUTION = re.compile(r"返金|交換|再送|再発送|返品|お送りいたします|発送いたしました|対応いたします|手配いたしました|キャンセルいたしました")


def _has_greeting(body: str) -> bool:
    opening = "\n".join(line for line in body.strip().splitlines()[:3])
    return any(word in opening for word in GREETINGS)


def reply_hints(case: Case, body: str) -> list[str]:
    """Hints shown beside the reply box; never a reason to refuse sending."""
    hints: list[str] = []
    if body.strip() and not _has_greeting(body):
        hints.append("書き出しの挨拶がありません（例：「お世話になっております。」）。")
    if SOLUTION.search(body) and not QUESTION.search(body):
        earlier = case.interactions.filter(kind=InteractionKind.OUTBOUND).values_list("body", flat=True)
        if not any(QUESTION.search(text) for text in earlier):
            hints.append("お客様に状況を確かめる質問をしないまま、解決策を提案しています。")
    now = timezone.now()
    for commitment in case.commitments.filter(state=CommitmentState.OPEN).order_by("due_at"):
        due = timezone.localtime(commitment.due_at).strftime("%m/%d %H:%M")
        if commitment.due_at < now:
            hints.append(f"期限（{due}）を過ぎた約束があります：「{commitment.description}」")
        else:
            hints.append(f"まだ果たしていない約束があります：「{commitment.description}」（期限 {due}）")
    return hints


def can_edit(user: User, template: ReplyTemplate) -> bool:
    """Own templates always; the team's for its lead; shared ones for admins."""
    if template.owner_id is not None:
        return template.owner_id == user.pk
    if template.team_id is not None:
        return user.is_admin or (user.is_lead and user.team_id == template.team_id)
    return user.is_admin


def scope_of(template: ReplyTemplate) -> str:
    return "personal" if template.owner_id else ("team" if template.team_id else "shared")


def do_save_template(template: ReplyTemplate, *, actor: User, scope: str) -> ReplyTemplate:
    """Save with the chosen audience; refused when the actor may not publish to it."""
    from madoguchi.knowledge.services import KnowledgeError

    template.owner = actor if scope == "personal" else None
    template.team = actor.team if scope == "team" else None
    if scope == "team" and actor.team is None:
        raise KnowledgeError(_("チームに所属していないため、チーム用のテンプレートは作れません。"))
    if template.kind == TemplateKind.DECLINE and template.rule_id is None:
        raise KnowledgeError(_("お断りのテンプレートには、引用する顧客対応ルールを選んでください。"))
    if not can_edit(actor, template):
        raise KnowledgeError(_("このテンプレートを保存する権限がありません（チーム用はリーダー、全員用は管理者が作れます）。"))
    # A shared or team template is the shop's configuration: its changes go to the settings
    # audit (a personal one is the person's own).
    stored = ReplyTemplate.objects.filter(pk=template.pk).first() if template.pk else None
    before = audit.snapshot(stored) if stored is not None else None
    with transaction.atomic():
        template.save()
        if template.owner_id is None or (stored is not None and stored.owner_id is None):
            audit.record_saved(actor, template, before, source=SettingsSource.OTHER)
    return template
