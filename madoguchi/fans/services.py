"""Writes of the fans app: the admin's rule."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy

from madoguchi.accounts import audit
from madoguchi.fans import figures
from madoguchi.fans.models import FanRule


def rule_initial() -> dict[str, Any]:
    current = figures.rule()
    return {"recency_days": current.recency_days, "min_orders": current.min_orders,
            "min_spent_yen": current.min_spent_yen, "not_complaints": sorted(current.not_complaints)}


@transaction.atomic
def do_save_rule(actor: Any, form: Any) -> str:
    """Save a valid FanRuleForm (audited). The fan flags follow at once (one UPDATE); if the
    categories that are not complaints changed, every customer's complaints are recounted by
    the worker, a thousand customers a step. Returns what happened: "", "flags", "rebuild"."""
    from madoguchi.jobs import work

    data = form.cleaned_data
    before = figures.rule()
    row, _created = FanRule.objects.update_or_create(pk=1, defaults={
        "recency_days": data["recency_days"], "min_orders": data["min_orders"], "min_spent_yen": data["min_spent_yen"]})
    row.not_complaints.set(data["not_complaints"])
    audit.record_form(actor, form, target=gettext_lazy("ファンの条件"))
    after = figures.rule()
    if after.not_complaints != before.not_complaints:
        work.defer(figures.REBUILD_WORK, figures.all_ranges())
        return "rebuild"
    if (after.min_orders, after.min_spent_yen) != (before.min_orders, before.min_spent_yen):
        figures.refresh_fan_flags(after)
        return "flags"
    return ""
