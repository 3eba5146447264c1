from __future__ import annotations

from typing import Any

from django import template

from madoguchi.fans.figures import figures_for

register = template.Library()


@register.inclusion_tag("fans/_customer_figures.html")
def customer_figures(customer: Any) -> dict[str, Any]:
    """Order count, spending net of refunds, first and last order, cases and complaints: one
    read of the customer's summary row."""
    return {"figures": figures_for(customer.pk)}
