from __future__ import annotations

from typing import Any

from django import template

from madoguchi.cases.page import loaded_with
from madoguchi.prevention import services
from madoguchi.prevention.forms import RootCauseForm
from madoguchi.prevention.models import CaseRootCause, ClusterRootCause, Countermeasure

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


@register.inclusion_tag("prevention/_cluster_panel.html", takes_context=True)
def cluster_prevention(context: Any, cluster: Any) -> dict[str, Any]:
    """A cluster's root cause and countermeasures, for any page about the cluster (patterns'
    cluster page includes it with `{% load prevention %}{% cluster_prevention cluster %}`)."""
    user = context["request"].user
    found = ClusterRootCause.objects.filter(cluster=cluster).select_related("set_by").first()
    may_manage = services.may_manage_countermeasures(user)
    measures = list(Countermeasure.objects.filter(cluster=cluster).select_related("done_by").order_by("-done_on", "-pk")[:20])
    return {"cluster": cluster, "found": found, "measures": measures, "may_manage": may_manage,
            "form": RootCauseForm(initial={"cause": found.cause, "note": found.note} if found else None) if may_manage else None,
            "next": context["request"].get_full_path(), "csrf_token": context.get("csrf_token")}
