from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import get_template

from madoguchi.cases.page import may_have
from madoguchi.mail.models import OutboundMessage, RawMessage
from madoguchi.mail.outbound import outbox_rows

register = template.Library()


def _mail_of_case(case: Any) -> dict[str, dict[int, Any]]:
    """Raw mails and outbox rows of every entry of the case, in three queries, kept on the case
    object so the timeline costs the same whatever its length."""
    cached = getattr(case, "_mail_of_case", None)
    if cached is None:
        raws = RawMessage.objects.filter(interaction__case=case).defer("raw").prefetch_related("attachments")
        outs = OutboundMessage.objects.filter(interaction__case=case)
        cached = {
            "raw": {raw.interaction_id: raw for raw in raws},
            "out": {out.interaction_id: out for out in outs},
        }
        case._mail_of_case = cached
    return cached


@register.simple_tag(takes_context=True)
def mail_for(context: Any, interaction: Any) -> dict[str, Any]:
    """The raw mail behind an inbound entry, or the outbox row behind a reply (or nothing)."""
    if interaction.channel != "email" or interaction.kind not in ("inbound", "outbound", "note"):
        return {}  # a note by mail: a department's answer to a forward (mail.forwarding)
    case = context.get("case")
    if case is None or case.pk != interaction.case_id:
        case = interaction.case
    found = _mail_of_case(case)
    if interaction.kind in ("inbound", "note"):
        raw = found["raw"].get(interaction.pk)
        return {"raw": raw} if raw else {}
    out = found["out"].get(interaction.pk)
    return {"out": out} if out else {}


@register.simple_tag(takes_context=True)
def mail_entry(context: Any, interaction: Any) -> str:
    """The mail part of one timeline entry (quoted text, HTML view, attachments, delivery state),
    rendered only for entries that have a mail behind them: no sub-template for the others."""
    mail = mail_for(context, interaction)
    if not mail:
        return ""
    return get_template("mail/_interaction.html").render({"mail": mail, "item": interaction, "csrf_token": context.get("csrf_token")})


@register.simple_tag
def mail_case_outbox(case: Any) -> list[OutboundMessage]:
    if not may_have(case, "mail_outbox"):  # the page's case query found no mail sent on the case
        return []
    return list(outbox_rows(case.pk).order_by("-created_at")[:5])


@register.simple_tag
def mail_case_address(case: Any) -> str:
    from madoguchi.mail.outbound import customer_address

    return customer_address(case) if case.channel == "email" else ""


def _by_mail(case: Any) -> bool:
    """Whether a reply on the case goes by mail, asked once per page (kept on the case object)."""
    from madoguchi.cases.services import reply_channel

    if not hasattr(case, "_reply_by_mail"):
        case._reply_by_mail = reply_channel(case) == "email"
    return bool(case._reply_by_mail)


def _mailbox(case: Any) -> Any:
    """The mailbox a mail on the case goes from, read once per page (kept on the case object)."""
    from madoguchi.mail.outbound import mailbox_for

    if not hasattr(case, "_mailbox_for"):
        case._mailbox_for = mailbox_for(case)
    return case._mailbox_for


@register.simple_tag
def mail_reply_signature(case: Any, user: Any) -> str:
    """The signature a reply on the case gets when it goes by mail (appended when it is sent,
    mail.signature), shown under the composer; "" when the reply is not a mail."""
    from madoguchi.mail.signature import compose

    if not _by_mail(case):
        return ""
    return compose(_mailbox(case), user)


@register.simple_tag
def mail_reply_options(case: Any, user: Any, bound: Any = None) -> Any:
    """The mail part of the reply form (CC, BCC, when to send): the bound one after a refused
    post, else a fresh one; None when the reply does not go by mail."""
    from madoguchi.mail.forms import ReplyMailOptions

    if bound is not None:
        return bound
    if not _by_mail(case):
        return None
    return ReplyMailOptions(case=case, actor=user, mailbox=_mailbox(case))


@register.simple_tag
def mail_contact_address(case: Any) -> str:
    from madoguchi.mail.outbound import contact_address

    return contact_address(_mailbox(case))


@register.simple_tag
def mail_held_replies(case: Any, user: Any) -> list[Any]:
    """The case's replies not sent yet, each with what this user may do with it."""
    from madoguchi.mail import held

    rows = held.open_for_case(case) if may_have(case, "mail_held") else []
    for row in rows:
        row.case = case  # loaded with its team already
        row.user_may_edit = held.may_edit(user, row)  # type: ignore[attr-defined]
        row.user_may_decide = row.state == "awaiting" and held.may_decide(user, row)  # type: ignore[attr-defined]
    return rows
