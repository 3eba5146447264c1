from __future__ import annotations

from typing import Any

from django import template

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
    session = ChatSession.objects.select_related("taken_by", "team").filter(case=case).first()
    return {
        "session": session,
        "attachments": list(FormAttachment.objects.filter(case=case)),
        "greetings": GREETINGS,
        "transfer_form": TransferForm() if session else None,
    }
