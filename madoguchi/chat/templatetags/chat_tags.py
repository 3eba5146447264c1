from __future__ import annotations

from typing import Any

from django import template

from madoguchi.cases.models import Channel
from madoguchi.chat import services
from madoguchi.chat.canned import GREETINGS
from madoguchi.chat.forms import TransferForm
from madoguchi.chat.models import ChatSession, FormAttachment

register = template.Library()


@register.simple_tag
def chat_waiting() -> list[ChatSession]:
    return services.waiting_sessions()


@register.simple_tag
def chat_for_case(case: Any) -> dict[str, Any]:
    # Only a chat opens a case with a chat session, only a form one with form attachments, and
    # a case's channel of first contact never changes: the other cases' pages ask nothing here.
    session = (ChatSession.objects.select_related("taken_by", "team").filter(case=case).first()
               if case.channel == Channel.CHAT else None)
    return {
        "session": session,
        "attachments": list(FormAttachment.objects.filter(case=case)) if case.channel == Channel.FORM else [],
        "greetings": GREETINGS,
        "transfer_form": TransferForm() if session else None,
    }
