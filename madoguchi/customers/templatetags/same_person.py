"""The warning on a visitor's record whose typed address belongs to another customer."""

from __future__ import annotations

from typing import Any

from django import template

from madoguchi.customers.models import IdentityKind
from madoguchi.customers.services import matches_to_show

register = template.Library()


@register.inclusion_tag("customers/_same_person.html", takes_context=True)
def same_person_warning(context: Any, customer: Any, case: Any = None) -> dict[str, Any]:
    """One query: the links of this record waiting for staff (else the newest decided one)."""
    from madoguchi.cases.models import Channel

    channels = dict(Channel.choices)
    kinds = dict(IdentityKind.choices)
    matches = matches_to_show(customer) if customer is not None else []
    for match in matches:
        match.channel_label = channels.get(match.channel, match.channel)  # type: ignore[attr-defined]
        match.kind_label = kinds.get(match.kind, match.kind)  # type: ignore[attr-defined]
    return {"matches": matches, "case": case, "csrf_token": context.get("csrf_token")}
