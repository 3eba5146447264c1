"""The shop's parts of the case page and the customer panel, each one call (shop/desk.py)."""

from __future__ import annotations

from typing import Any

from django import template

from madoguchi.shop import desk

register = template.Library()


@register.inclusion_tag("shop/_case_order.html", takes_context=True)
def case_order_card(context: Any, case: Any, lines: Any = None) -> dict[str, Any]:
    """The order, its lines, tracking and delivery state, product and misread passage. `lines`:
    the page's `order_lines` (desk.page_lines), read once with the customer panel's."""
    return {**desk.case_card(case, lines), "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("shop/_customer_orders.html")
def customer_orders(orders: list[Any], case: Any, order_count: int, past_cases: list[Any],
                    lines: Any = None) -> dict[str, Any]:
    """The customer panel's latest orders with status, lines, amounts and their cases (those
    among the case and the customer's past cases the panel read already: no query of its own)."""
    return {"views": desk.order_views(list(orders), known_cases=[case, *past_cases], lines=lines), "case": case,
            "order_count": order_count, "more": order_count > len(orders)}
