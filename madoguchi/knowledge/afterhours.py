"""After-hours first answer (issue 5 §6): outside business hours, the first e-mail or chat
message of a new case gets one automatic reply saying when an agent will answer, with the
public FAQ articles most like the message. Never sent twice for a case, never to a message
the mail app marked as an automatic reply (RawMessage.auto_reason), so two auto-responders
cannot talk to each other.

The calendar is the businesshours app's (`is_open`, `next_open`); the reply is an outbound
interaction written with cases.automatic.do_send_automatic (actor None: the system), which the
channel app delivers like any other reply. It is decided and sent by the worker
(the handler in knowledge/tasks.py), recorded with the message by jobs.work, so a crash
before it ran does not lose it. By e-mail it doubles as
the acknowledgement: the mail app sends no acknowledgement of its own when `answers()` says
this answer goes, so a new customer writing at night gets one automatic mail, not two.
"""

from __future__ import annotations

import logging
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from madoguchi import businesshours
from madoguchi.cases.automatic import do_send_automatic
from madoguchi.cases.models import Case, Channel, Interaction, InteractionKind
from madoguchi.customers.services import salutation
from madoguchi.jobs import work
from madoguchi.knowledge.models import (
    AfterHoursReply,
    Article,
    Deflection,
    DeflectionKind,
    Visibility,
)
from madoguchi.knowledge.suggestions import suggest_articles

log = logging.getLogger(__name__)
CHANNELS = {Channel.EMAIL, Channel.CHAT, Channel.LINE}
TOP_ARTICLES = 3
SUGGEST_FROM_CHARS = 2000
AFTER_HOURS_WORK = "knowledge.afterhours"
WEEKDAYS = "月火水木金土日"


def _is_auto_reply(interaction: Interaction) -> bool:
    """The mail app keeps the original message with the reason it looked automatic."""
    try:
        from madoguchi.mail.models import RawMessage
    except ImportError:  # pragma: no cover - mail app not installed
        return False
    linked = RawMessage.objects.filter(interaction=interaction) | RawMessage.objects.filter(case=interaction.case_id)
    return linked.exclude(auto_reason="").exists()


def _over_mail_limit(case: Case) -> bool:
    """By e-mail the answer is an automatic mail: it counts against the mail app's per-sender
    limit, shared with its acknowledgements (mail.outbound.automatic_mail_allowed)."""
    if case.channel != Channel.EMAIL:
        return False
    try:
        from madoguchi.mail.outbound import automatic_mail_allowed, customer_address
    except ImportError:  # pragma: no cover - mail app not installed
        return False
    address = customer_address(case)
    # No address: no mail goes out to count (the outbox records why it could not send).
    return bool(address) and not automatic_mail_allowed(address)


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
    return not _is_auto_reply(interaction) and not _over_mail_limit(case)


def answers(channel: str, at: object) -> bool:
    """Whether a new case's first message on `channel` at `at` gets the after-hours answer.
    The mail app asks this before its acknowledgement: out of hours the answer IS the
    acknowledgement (case number, reply instructions), so the customer gets one mail."""
    return channel in CHANNELS and not businesshours.is_open(at)  # type: ignore[arg-type]


def maybe_answer_after_hours(interaction: Interaction) -> None:
    """Called on every new message. Only notes the message (no query: the calendar is cached);
    the worker decides and answers after the commit, when the mail app has linked its
    RawMessage (and its auto_reason) to the interaction. One task per transaction."""
    if interaction.kind != InteractionKind.INBOUND or not answers(interaction.channel, interaction.occurred_at):
        return
    work.defer(AFTER_HOURS_WORK, [interaction.pk])


def _when(at: object) -> str:
    local = timezone.localtime(at)  # type: ignore[arg-type]
    return f"{local.month}月{local.day}日（{WEEKDAYS[local.weekday()]}）{local.hour}時{local.minute:02d}分"


def compose(case: Case, reply_by: object, articles: list[Article], token: str) -> str:
    """By e-mail this is also the acknowledgement (the mail app sends none out of hours):
    the case number and how to add to the case; never the mail's subject (a stranger's words,
    issue 21 finding 1)."""
    email = case.channel == Channel.EMAIL
    lines = [salutation(case.customer), ""]
    if email:
        lines += ["お問い合わせいただき、ありがとうございます。以下の内容で受け付けました。", "",
                  f"  受付番号: #{case.pk}", ""]
    else:
        lines += ["お問い合わせいただき、ありがとうございます。"]
    lines += [
        "ただいま営業時間外のため、担当者からのご返信は"
        f"{_when(reply_by)}以降となります。お待たせして申し訳ございません。",
    ]
    if articles:
        lines += ["", "お問い合わせの内容に近い「よくあるご質問」をお送りします。こちらで解決するかもしれません。"]
        for article in articles:
            url = settings.SITE_URL + reverse("faq:article", args=[article.pk]) + f"?r={token}"
            lines.append(f"・{article.title}\n  {url}")
    if email:
        lines += ["", "追加の情報や写真がございましたら、このメールにそのまま返信してください。"
                      "件名の受付番号はそのままでお願いいたします。"]
        from madoguchi.mail.outbound import receipt_extras

        extra = receipt_extras(case).rstrip("\n")
        if extra:
            lines += ["", extra]
    lines += ["", "このメッセージは自動でお送りしています。" if case.channel == Channel.LINE else "このメールは自動でお送りしています。"]
    return "\n".join(lines)


def answer_after_hours(interaction_pk: int) -> AfterHoursReply | None:
    interaction = Interaction.objects.select_related("case__customer").filter(pk=interaction_pk).first()
    if interaction is None or not should_answer(interaction):
        return None
    case = interaction.case
    reply_by = businesshours.next_open(interaction.occurred_at)
    # What the customer wrote first says what it is about; a 30,000-character mail need not
    # be tokenised whole to pick three articles (it held the worker, and the web, for seconds).
    found = suggest_articles(f"{case.subject}\n{interaction.body[:SUGGEST_FROM_CHARS]}", limit=20)
    articles = [s.article for s in found if s.article and s.article.visibility == Visibility.PUBLIC][:TOP_ARTICLES]
    token = secrets.token_urlsafe(16)
    try:
        with transaction.atomic():
            # The OneToOne on case makes "once per case" hold even if two workers race.
            record = AfterHoursReply.objects.create(case=case, reply_by=reply_by, token=token)
            record.articles.set(articles)
            # By the channel that still reaches the customer; if none does, the case says so.
            sent = do_send_automatic(case, body=compose(case, reply_by, articles, token), what="営業時間外の自動返信")
            if sent is not None:
                record.interaction = sent
                record.save(update_fields=["interaction"])
    except IntegrityError:
        # Another worker answered this case meanwhile (the OneToOne): done. Anything else is an
        # error, and the deferred work is tried again rather than the answer silently dropped.
        if AfterHoursReply.objects.filter(case=case).exists():
            return None
        raise
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
