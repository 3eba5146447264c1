from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext

from madoguchi.cases.page import loaded_with
from madoguchi.metrics.formatting import format_timer, format_value
from madoguchi.metrics.models import CaseSla
from madoguchi.metrics.sla import timer_state

register = template.Library()


@register.filter
def metric(value: float | None, unit: str) -> str:
    return format_value(value, unit)


@register.simple_tag
def sample_cell(values: dict, code: str, unit: str, minimum: int) -> str:
    """A breakdown cell: the value, and for a rate its n, greyed below the shop's minimum."""
    value = values.get(code)
    n = values.get(f"n:{code}")
    if n is None or value is None:
        return format_html('<td class="num">{}</td>', format_value(value, unit))
    thin = " thin" if n < minimum else ""
    return format_html('<td class="num{}">{} <small class="n">n={}</small></td>', thin, format_value(value, unit), int(n))


@register.filter
def pick(mapping: dict, key: Any) -> Any:
    return mapping.get(key) if mapping else None


@register.simple_tag
def sla_timers(cases: list) -> dict[int, dict | None]:
    """SLA timer states of a page of cases: one query for the whole page."""
    ids = [case.pk for case in cases]
    now = timezone.now()
    return {sla.pk: timer_state(sla, now) for sla in CaseSla.objects.filter(case_id__in=ids)} if ids else {}


@register.simple_tag
def sla_timer_cells(cases: list) -> dict[int, str]:
    """The SLA timer of each case of an inbox page, rendered (one query), for the cases that have
    one: the inbox puts them into its rows in one pass instead of a tag call per row."""
    return {pk: render_timer(state) for pk, state in sla_timers(cases).items() if state}


def render_timer(state: dict | None) -> str:
    if not state:
        return ""
    if state["paused"]:
        return format_html('<span class="sla-timer paused" data-testid="sla-timer">{}</span>', gettext("SLA一時停止中"))
    due = timezone.localtime(state["due"])
    level = " overdue" if state["overdue"] else " warning" if state["warning"] else ""
    # What is left (or overdue) is written here too, so the page reads right before timer.js
    # counts it down, and without JavaScript.
    left = format_timer((state["due"] - timezone.now()).total_seconds())
    return format_html(
        '<span class="sla-timer{}" data-testid="sla-timer" data-due="{}" title="{} {}">{} <span class="left">{}</span></span>',
        level, due.isoformat(), state["target"], due.strftime("%Y/%m/%d %H:%M"), state["target"], left,
    )


@register.simple_tag
def sla_timer(state: dict | None) -> str:
    """The timer of one inbox row, built without a sub-template (50 rows a page)."""
    return render_timer(state)


@register.simple_tag
def sla_timers_for_case(case: Any) -> dict | None:
    try:
        sla = case.sla  # loaded with the case on its page (cases.page.CASE_PAGE_RELATED), else one query
    except CaseSla.DoesNotExist:
        sla = None
    return timer_state(sla)


@register.simple_tag(takes_context=True)
def case_metrics(context: dict, case: Any) -> dict:
    """Outcome, survey and breaches of the case for its side panel: one query on the case page,
    which loads the first two with the case (cases.page.CASE_PAGE_RELATED)."""
    from madoguchi.metrics.models import Outcome, SlaBreach, Survey
    from madoguchi.metrics.services import can_review
    from madoguchi.metrics.survey import survey_url

    survey = loaded_with(case, "survey", lambda: Survey.objects.filter(case=case).first())
    user = context.get("user")
    return {
        "outcome": loaded_with(case, "outcome", lambda: Outcome.objects.filter(case=case).first()),
        "survey": survey,
        "survey_url": survey_url(survey) if survey and survey.expires_at else "",  # once sent (or undeliverable)
        "breaches": list(SlaBreach.objects.filter(case=case).order_by("due_at")),
        "can_review": bool(user and user.is_authenticated and can_review(user) and case.assignee_id),
    }
