"""The warning on a visitor's record whose typed address belongs to another customer."""

from __future__ import annotations

from typing import Any

from django import template

from madoguchi.customers.models import IdentityKind
from madoguchi.customers.services import matches_to_show

register = template.Library()


@register.inclusion_tag("customers/_same_person.html", takes_context=True)
def same_person_warning(context: Any, customer: Any, case: Any = None) -> dict[str, Any]:
    """One query: the links of this record waiting for staff (else the newest decided one); none
    on the case page when its case query found the record has no link (cases.page.may_have)."""
    from madoguchi.cases.models import Channel
    from madoguchi.cases.page import may_have

    channels = dict(Channel.choices)
    kinds = dict(IdentityKind.choices)
    none_known = case is not None and customer is not None and case.customer_id == customer.pk and not may_have(case, "possible_match")
    matches = matches_to_show(customer) if customer is not None and not none_known else []
    for match in matches:
        match.channel_label = channels.get(match.channel, match.channel)  # type: ignore[attr-defined]
        match.kind_label = kinds.get(match.kind, match.kind)  # type: ignore[attr-defined]
    return {"matches": matches, "case": case, "csrf_token": context.get("csrf_token")}
