"""After-hours first answer (issue 5 §6): outside business hours, the first e-mail or chat
message of a new case gets one automatic reply saying when an agent will answer, with the
public FAQ articles most like the message. Never sent twice for a case, never to a message
the mail app marked as an automatic reply (RawMessage.auto_reason), so two auto-responders
cannot talk to each other.

The calendar is the businesshours app's (`is_open`, `next_open`); the reply is an outbound
interaction written with cases.services.do_send_reply (actor None: the system), which the
channel app delivers like any other reply.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from madoguchi import businesshours
from madoguchi.cases.models import Case, Channel, Interaction, InteractionKind
from madoguchi.cases.services import do_send_reply
from madoguchi.knowledge.models import (
    AfterHoursReply,
    Article,
    Deflection,
    DeflectionKind,
    Visibility,
)
from madoguchi.knowledge.suggestions import suggest_articles

CHANNELS = {Channel.EMAIL, Channel.CHAT}
TOP_ARTICLES = 3
WEEKDAYS = "月火水木金土日"


def _is_auto_reply(interaction: Interaction) -> bool:
    """The mail app keeps the original message with the reason it looked automatic."""
    try:
        from madoguchi.mail.models import RawMessage
    except ImportError:  # pragma: no cover - mail app not installed
        return False
    linked = RawMessage.objects.filter(interaction=interaction) | RawMessage.objects.filter(case=interaction.case_id)
    return linked.exclude(auto_reason="").exists()


def should_answer(interaction: Interaction) -> bool:
    if interaction.kind != InteractionKind.INBOUND or interaction.channel not in CHANNELS:
        return False
    if businesshours.is_open(interaction.occurred_at):
        return False
    case = interaction.case
    if AfterHoursReply.objects.filter(case=case).exists():
        return False
    # Only a new case: once an agent has written, the customer is in a conversation.
    if case.interactions.filter(kind=InteractionKind.OUTBOUND).exists():
        return False
    return not _is_auto_reply(interaction)


def maybe_answer_after_hours(interaction: Interaction) -> None:
    """Called on every new message; the answer itself goes out after the commit, when the
    mail app has linked its RawMessage (and its auto_reason) to the interaction."""
    if interaction.kind != InteractionKind.INBOUND or interaction.channel not in CHANNELS:
        return
    pk = interaction.pk
    transaction.on_commit(lambda: answer_after_hours(pk))


def _when(at: object) -> str:
    local = timezone.localtime(at)  # type: ignore[arg-type]
    return f"{local.month}月{local.day}日（{WEEKDAYS[local.weekday()]}）{local.hour}時{local.minute:02d}分"


def compose(case: Case, reply_by: object, articles: list[Article], token: str) -> str:
    lines = [
        f"{case.customer.name}様",
        "",
        "お問い合わせいただき、ありがとうございます。",
        "ただいま営業時間外のため、担当者からのご返信は"
        f"{_when(reply_by)}以降となります。お待たせして申し訳ございません。",
    ]
    if articles:
        lines += ["", "お問い合わせの内容に近い「よくあるご質問」をお送りします。こちらで解決するかもしれません。"]
        for article in articles:
            url = settings.SITE_URL + reverse("faq:article", args=[article.pk]) + f"?r={token}"
            lines.append(f"・{article.title}\n  {url}")
    lines += ["", "このメールは自動でお送りしています。"]
    return "\n".join(lines)


def answer_after_hours(interaction_pk: int) -> AfterHoursReply | None:
    interaction = Interaction.objects.select_related("case__customer").filter(pk=interaction_pk).first()
    if interaction is None or not should_answer(interaction):
        return None
    case = interaction.case
    reply_by = businesshours.next_open(interaction.occurred_at)
    found = suggest_articles(f"{case.subject}\n{interaction.body}", limit=20)
    articles = [s.article for s in found if s.article and s.article.visibility == Visibility.PUBLIC][:TOP_ARTICLES]
    token = secrets.token_urlsafe(16)
    try:
        with transaction.atomic():
            # The OneToOne on case makes "once per case" hold even if two workers race.
            record = AfterHoursReply.objects.create(case=case, reply_by=reply_by, token=token)
            record.articles.set(articles)
            sent = do_send_reply(case, actor=None, body=compose(case, reply_by, articles, token))  # type: ignore[arg-type]
            record.interaction = sent
            record.save(update_fields=["interaction"])
    except IntegrityError:
        return None
    return record


def do_record_deflection(token: str, kind: str, article: Article | None = None) -> Deflection | None:
    """The customer opened an offered FAQ or said whether it helped; no agent involved.
    An unknown token records nothing (links get forwarded and mistyped)."""
    reply = AfterHoursReply.objects.filter(token=token).first()
    if reply is None or kind not in DeflectionKind.values:
        return None
    if kind == DeflectionKind.CLICKED and reply.deflections.filter(kind=kind, article=article).exists():
        return None
    return Deflection.objects.create(reply=reply, article=article, kind=kind)


def deflection_summary() -> dict[str, int]:
    """How many after-hours answers went out and what customers did with them."""
    counts = dict(Deflection.objects.values_list("kind").annotate(n=Count("reply", distinct=True)))
    return {
        "answers": AfterHoursReply.objects.count(),
        "clicked": counts.get(DeflectionKind.CLICKED, 0),
        "helped": counts.get(DeflectionKind.HELPED, 0),
        "not_helped": counts.get(DeflectionKind.NOT_HELPED, 0),
    }
