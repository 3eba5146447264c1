"""The X route choice on an X case's reply form (a public reply or a DM)."""

from __future__ import annotations

from typing import Any

from django import template

from madoguchi.x_account import checks
from madoguchi.x_account.models import Route
from madoguchi.x_account.outbound import route_for

register = template.Library()


@register.simple_tag
def x_reply_route(case: Any, form: Any) -> dict[str, Any]:
    """The route the reply takes unless the agent changes it, whether a public reply is possible,
    and the length limit the page's counter uses."""
    conversation, _to, in_reply_to = route_for(case.pk, case.customer_id)
    chosen = form["route"].value() if form is not None and form["route"].value() in Route.values else conversation
    return {"route": chosen, "can_public": bool(route_for(case.pk, case.customer_id, Route.PUBLIC)[2]),
            "max_weight": checks.MAX_WEIGHT, "url_weight": checks.URL_WEIGHT,
            "confirmed": bool(form is not None and form["route_confirmed"].value())}
