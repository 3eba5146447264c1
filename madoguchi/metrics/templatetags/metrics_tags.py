from __future__ import annotations

import datetime as dt
import html
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from madoguchi.cases.page import loaded_with, may_have
from madoguchi.metrics.formatting import format_timer, format_value
from madoguchi.metrics.models import CaseSla
from madoguchi.metrics.sla import TARGETS, timer_state

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


# What a timer reads: the clock's state and dues, not the rest of its row.
TIMER_FIELDS = ("paused_since", *(f"{t}_{part}" for t in TARGETS for part in ("due", "warn_at")))


@register.simple_tag
def sla_timer_cells(cases: list) -> dict[int, str]:
    """The SLA timer of each case of an inbox page, rendered (one query), for the cases that have
    one: the inbox puts them into its rows in one pass instead of a tag call per row."""
    ids = [case.pk for case in cases]
    if not ids:
        return {}
    now = timezone.now()
    zone = timezone.get_current_timezone()  # once for the page, not once a row
    paused = html.escape(gettext("SLA一時停止中"))
    cells = {}
    for sla in CaseSla.objects.filter(case_id__in=ids).only(*TIMER_FIELDS):
        state = timer_state(sla, now)
        if state:
            cells[sla.pk] = render_timer(state, now, zone, paused)
    return cells


def render_timer(state: dict | None, now: dt.datetime | None = None, zone: dt.tzinfo | None = None,
                 paused: str = "") -> str:
    """One timer's HTML (every text escaped with the standard library's html.escape, as the
    inbox rows are: Django's escaping of lazy strings costs more than the rest at 50 a page)."""
    if not state:
        return ""
    if state["paused"]:
        label = paused or html.escape(gettext("SLA一時停止中"))
        return mark_safe(f'<span class="sla-timer paused" data-testid="sla-timer">{label}</span>')  # noqa: S308 - escaped
    now = now or timezone.now()
    due = state["due"].astimezone(zone or timezone.get_current_timezone())
    level = " overdue" if state["overdue"] else " warning" if state["warning"] else ""
    # What is left (or overdue) is written here too, so the page reads right before timer.js
    # counts it down, and without JavaScript.
    left = html.escape(format_timer((state["due"] - now).total_seconds()))
    target = html.escape(str(state["target"]))
    return mark_safe(  # noqa: S308 - every value is escaped above
        f'<span class="sla-timer{level}" data-testid="sla-timer" data-due="{due.isoformat()}"'
        f' title="{target} {due:%Y/%m/%d %H:%M}">{target} <span class="left">{left}</span></span>'
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
    """Outcome, survey and breaches of the case for its side panel: on the case page the first two
    come with the case (cases.page.CASE_PAGE_RELATED) and the breaches are read only when its
    case query found some (cases.page.CASE_PAGE_EXISTS)."""
    from madoguchi.metrics.models import Outcome, SlaBreach, Survey
    from madoguchi.metrics.services import can_review
    from madoguchi.metrics.survey import survey_url

    survey = loaded_with(case, "survey", lambda: Survey.objects.filter(case=case).first())
    user = context.get("user")
    return {
        "outcome": loaded_with(case, "outcome", lambda: Outcome.objects.filter(case=case).first()),
        "survey": survey,
        "survey_url": survey_url(survey) if survey and survey.expires_at else "",  # once sent (or undeliverable)
        "breaches": list(SlaBreach.objects.filter(case=case).order_by("due_at")) if may_have(case, "sla_breaches") else [],
        "can_review": bool(user and user.is_authenticated and can_review(user) and case.assignee_id),
    }
