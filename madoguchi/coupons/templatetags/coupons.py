from __future__ import annotations

from typing import Any

from django import template

from madoguchi.coupons.services import coupons_of_case, coupons_of_customer

register = template.Library()


@register.inclusion_tag("coupons/_customer_coupons.html")
def customer_coupons(customer: Any) -> dict[str, Any]:
    return {"coupons": coupons_of_customer(customer.pk)}


@register.inclusion_tag("coupons/_case_panel.html")
def case_coupons(case: Any) -> dict[str, Any]:
    """The case page's coupon panel, in the page (one query); its form comes by htmx when opened."""
    return {"case": case, "coupons": coupons_of_case(case.pk), "form": None}
