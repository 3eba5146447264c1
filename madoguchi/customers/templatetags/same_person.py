"""The warning on a visitor's record whose typed address belongs to another customer."""

from __future__ import annotations

from typing import Any

from django import template

from madoguchi.customers.services import possible_match_of

register = template.Library()


@register.inclusion_tag("customers/_same_person.html", takes_context=True)
def same_person_warning(context: Any, customer: Any, case: Any = None) -> dict[str, Any]:
    """One query: the newest unconfirmed (or dismissed) link of this record, if any; none on the
    case page when its case query found the record has no link (cases.page.may_have)."""
    from madoguchi.cases.models import Channel
    from madoguchi.cases.page import may_have

    none_known = case is not None and customer is not None and case.customer_id == customer.pk and not may_have(case, "possible_match")
    match = possible_match_of(customer) if customer is not None and not none_known else None
    return {
        "match": match, "case": case, "csrf_token": context.get("csrf_token"),
        "channel_label": dict(Channel.choices).get(match.channel, match.channel) if match else "",
    }
