from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.utils.translation import gettext as _

from madoguchi.cases.models import Channel
from madoguchi.chat import services
from madoguchi.chat.canned import GREETINGS
from madoguchi.chat.forms import TransferForm
from madoguchi.chat.models import ChatSession, FormAttachment, SessionState

register = template.Library()


@register.simple_tag
def chat_waiting() -> list[ChatSession]:
    return services.waiting_sessions()


@register.simple_tag
def chat_grace() -> int:
    """Seconds a visitor may be away (a page change) before agents see them as gone."""
    return int(settings.MADOGUCHI_CHAT_VISITOR_GRACE_SECONDS)


def _session(case: Any) -> ChatSession | None:
    # Only a chat opens a case with a chat session, and a case's channel of first contact never
    # changes: the other cases' pages ask nothing here. Asked once per page (banner and reply).
    if case.channel != Channel.CHAT:
        return None
    if not hasattr(case, "_chat_session"):
        case._chat_session = ChatSession.objects.select_related("taken_by", "team").filter(case=case).first()
    return case._chat_session  # type: ignore[no-any-return]


@register.simple_tag
def chat_for_case(case: Any) -> dict[str, Any]:
    session = _session(case)
    return {
        "session": session,
        "attachments": list(FormAttachment.objects.filter(case=case)) if case.channel == Channel.FORM else [],
        "greetings": GREETINGS,
        "transfer_form": TransferForm() if session else None,
        "gone": session is not None and session.visitor_gone(),
        "mail_to": services.reply_address(case) if session is not None else "",
    }


@register.simple_tag
def chat_reply(case: Any) -> dict[str, Any]:
    """Which composer a case page shows. A chat still open has ONE: the chat's own (letters'
    greetings and closings do not belong in a chat). An ended chat is answered by e-mail when
    the visitor gave an address; without one there is nothing to send through."""
    session = _session(case)
    if session is None:
        return {"form": True, "note": ""}
    if session.state != SessionState.ENDED:
        return {"form": False, "note": ""}
    mail_to = services.reply_address(case)
    if mail_to:
        return {"form": True, "note": _("チャットは終了しました。返信はメールで %(address)s 宛に送ります。") % {"address": mail_to}}
    return {"form": False, "note": _("チャットは終了しました。お客様のメールアドレスがないため、返信は送れません。"
                                     "電話などでのやりとりは「やりとりを記録（電話・メモ）」に残してください。")}
