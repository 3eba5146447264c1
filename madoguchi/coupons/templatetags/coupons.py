from __future__ import annotations

from typing import Any

from django import template

from madoguchi.coupons.services import coupons_of_customer

register = template.Library()


@register.inclusion_tag("coupons/_customer_coupons.html")
def customer_coupons(customer: Any) -> dict[str, Any]:
    return {"coupons": coupons_of_customer(customer.pk)}
