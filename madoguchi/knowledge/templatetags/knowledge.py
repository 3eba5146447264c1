"""Inclusion tags that fill the knowledge slots of the case page with their own data,
so the cases app's view needs to know nothing about templates, suggestions or rules."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from madoguchi.knowledge import replies, services
from madoguchi.knowledge.models import RuleTopic, RuleVersion, TemplateKind

register = template.Library()


@register.inclusion_tag("knowledge/_reply_tools_inner.html", takes_context=True)
def reply_tools(context: dict[str, Any], case: Any) -> dict[str, Any]:
    user = context["request"].user
    templates = replies.templates_for(user)
    greeting, closing = replies.default_frame(templates)
    base = replies.variables_for(case, user)

    def rendered(t: Any) -> str:
        values = replies.variables_for(case, user, t.rule) if t.rule_id else base
        return replies.render_template(t.body, values)

    body_templates = [t for t in templates if t.kind in (TemplateKind.BODY, TemplateKind.DECLINE)]
    data = {
        "greeting": rendered(greeting) if greeting else "",
        "closing": rendered(closing) if closing else "",
        "templates": [{"id": t.pk, "name": t.name, "text": rendered(t)} for t in body_templates],
        "hintsUrl": reverse("knowledge:reply_hints", args=[case.pk]),
    }
    return {"data": data, "templates": body_templates, "case": case}


@register.inclusion_tag("knowledge/_case_rules.html", takes_context=True)
def case_rules(context: dict[str, Any], case: Any) -> dict[str, Any]:
    abusive = RuleVersion.objects.filter(rule__topic=RuleTopic.ABUSIVE).select_related("rule")
    return {
        "case": case, "rules": services.rules_for_case(case), "flags": services.active_flags(case.customer),
        "abusive_versions": abusive, "can_make_manual": case.status in ("resolved", "closed"),
        "csrf_token": context.get("csrf_token"),
    }
