from __future__ import annotations

from typing import Any

from django import template

from madoguchi.cases.page import loaded_with
from madoguchi.prevention import services
from madoguchi.prevention.forms import RootCauseForm
from madoguchi.prevention.models import CaseRootCause

register = template.Library()


@register.inclusion_tag("prevention/_case_panel.html", takes_context=True)
def case_root_cause(context: Any, case: Any) -> dict[str, Any]:
    """The case page's root-cause panel: the row comes with the case (CASE_PAGE_RELATED), so
    no query of its own."""
    user = context["request"].user
    found = loaded_with(case, "root_cause", lambda: CaseRootCause.objects.filter(case=case).first())
    may_set = services.may_set_root_cause(user, case)
    form = RootCauseForm(initial={"cause": found.cause, "note": found.note} if found else None) if may_set else None
    return {"case": case, "found": found, "form": form, "may_manage": services.may_manage_countermeasures(user),
            "csrf_token": context.get("csrf_token")}
