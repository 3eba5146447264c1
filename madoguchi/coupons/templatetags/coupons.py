from __future__ import annotations

from typing import Any

from django import template

from madoguchi.cases.page import may_have
from madoguchi.coupons.services import coupons_of_case, coupons_of_customer

register = template.Library()


@register.inclusion_tag("coupons/_customer_coupons.html", takes_context=True)
def customer_coupons(context: Any, customer: Any) -> dict[str, Any]:
    return {"coupons": coupons_of_customer(customer.pk), "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("coupons/_case_panel.html", takes_context=True)
def case_coupons(context: Any, case: Any) -> dict[str, Any]:
    """The case page's coupon panel, in the page (one query, none when the page's case query
    found no coupon: cases.page.may_have); its form comes by htmx when opened."""
    coupons = coupons_of_case(case.pk) if may_have(case, "coupons") else []
    return {"case": case, "coupons": coupons, "form": None, "csrf_token": context.get("csrf_token")}
