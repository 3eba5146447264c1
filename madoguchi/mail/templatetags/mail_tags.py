from __future__ import annotations

from typing import Any

from django import template

from madoguchi.mail.models import OutboundMessage, RawMessage, RawState

register = template.Library()


@register.simple_tag
def mail_failed_count() -> int:
    return RawMessage.objects.filter(state=RawState.FAILED).count()


@register.simple_tag
def mail_for(interaction: Any) -> dict[str, Any]:
    """The raw mail behind an inbound entry, or the outbox row behind a reply (or nothing)."""
    if interaction.channel != "email":
        return {}
    if interaction.kind == "inbound":
        raw = RawMessage.objects.filter(interaction=interaction).defer("raw").prefetch_related("attachments").first()
        return {"raw": raw} if raw else {}
    if interaction.kind == "outbound":
        out = OutboundMessage.objects.filter(interaction=interaction).first()
        return {"out": out} if out else {}
    return {}


@register.simple_tag
def mail_case_outbox(case: Any) -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(case=case).exclude(kind="staff").order_by("-created_at")[:5])


@register.simple_tag
def mail_case_address(case: Any) -> str:
    from madoguchi.mail.outbound import _customer_address

    return _customer_address(case) if case.channel == "email" else ""
