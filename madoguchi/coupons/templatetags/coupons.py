from __future__ import annotations

from typing import Any

from django import template

from madoguchi.coupons.services import coupons_of_case, coupons_of_customer

register = template.Library()


@register.inclusion_tag("coupons/_customer_coupons.html", takes_context=True)
def customer_coupons(context: Any, customer: Any) -> dict[str, Any]:
    return {"coupons": coupons_of_customer(customer.pk), "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("coupons/_case_panel.html", takes_context=True)
def case_coupons(context: Any, case: Any) -> dict[str, Any]:
    """The case page's coupon panel, in the page (one query); its form comes by htmx when opened."""
    return {"case": case, "coupons": coupons_of_case(case.pk), "form": None, "csrf_token": context.get("csrf_token")}
