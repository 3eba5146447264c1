"""Inclusion tags that fill the knowledge slots of the case page with their own data,
so the cases app's view needs to know nothing about templates, suggestions or rules."""

from __future__ import annotations

from typing import Any

from django import template

from madoguchi.cases.page import may_have
from madoguchi.knowledge import replies, services, suggestions

register = template.Library()


@register.inclusion_tag("knowledge/_reply_tools_inner.html", takes_context=True)
def reply_tools(context: dict[str, Any], case: Any) -> dict[str, Any]:
    """The reply box's template picker, each template already filled in for this case."""
    return replies.reply_tools(case, context["request"].user)


@register.simple_tag
def stored_suggestions(case: Any) -> dict[str, Any] | None:
    """The suggestions the worker ranked for this case (None: not yet; the page loads them by htmx)."""
    return suggestions.stored_panel(case)


@register.inclusion_tag("knowledge/_case_rules.html", takes_context=True)
def case_rules(context: dict[str, Any], case: Any) -> dict[str, Any]:
    rules, abusive = services.rules_panel(case)  # one query for both
    return {
        "case": case, "rules": rules,
        "flags": services.active_flags(case.customer) if may_have(case, "customer_flags") else [],
        "abusive_versions": abusive, "can_make_manual": case.status in ("resolved", "closed"),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("knowledge/_customer_flags.html", takes_context=True)
def customer_flags(context: dict[str, Any], customer: Any) -> dict[str, Any]:
    """The customer page's 要注意 history: every flag, in force or lifted (who, when, why)."""
    return {"customer": customer, "flags": services.flag_history(customer), "csrf_token": context.get("csrf_token")}
