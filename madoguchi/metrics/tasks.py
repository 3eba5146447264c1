"""Minute jobs: SLA warnings and breaches, the rollup of days that changed, and the
satisfaction surveys whose delay after resolution has passed; the work the metrics receivers
defer (SLA clocks of a batch)."""

from __future__ import annotations

from typing import Any

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from madoguchi.jobs import work
from madoguchi.metrics import receivers
from madoguchi.metrics.rollup import mark_dirty, refresh_dirty
from madoguchi.metrics.sla import check_sla
from madoguchi.metrics.survey import send_due_invitations


@db_periodic_task(crontab(minute="*"))
def check_sla_job() -> dict[str, int]:
    return check_sla()


@db_periodic_task(crontab(minute="*"))
def send_due_surveys_job() -> int:
    return send_due_invitations()


@db_periodic_task(crontab(minute="*"))
def refresh_rollups_job() -> int:
    mark_recent_side_changes()
    return refresh_dirty()


# Case-desk changes that move a case between rollup rows but send no signal: a handover
# (assignee, team) and an edit of the category.
AUDITED_MOVES = {"handed_over": None, "updated": "category"}
AUDIT_WINDOW_ROWS = 5000


def mark_recent_side_changes(minutes: int = 5) -> None:
    """Commitments, compensations, handovers and category edits change a case's figures
    without a case signal: mark the days of cases whose promises or compensations changed
    (or fell due), or that were handed over or re-categorised, in the last few minutes.
    Separate small queries, not one OR across joins, so the job stays cheap at scale; the
    audit log is read newest first by primary key (its last few thousand entries)."""
    import datetime as dt

    from django.db.models import Q
    from django.utils import timezone

    from madoguchi.cases.models import AuditEvent, Case, Commitment, Compensation

    now = timezone.now()
    since = now - dt.timedelta(minutes=minutes)
    case_ids = set(
        Commitment.objects.filter(
            Q(created_at__gte=since) | Q(closed_at__gte=since) | Q(due_at__gte=since, due_at__lte=now)
        ).values_list("case_id", flat=True)[:5000]
    )
    case_ids |= set(
        Compensation.objects.filter(Q(created_at__gte=since) | Q(decided_at__gte=since)).values_list("case_id", flat=True)[:5000]
    )
    for case_id, action, at, changes in AuditEvent.objects.order_by("-id").values_list(
        "case_id", "action", "at", "changes"
    )[:AUDIT_WINDOW_ROWS]:
        if at >= since and action in AUDITED_MOVES and (
            AUDITED_MOVES[action] is None or AUDITED_MOVES[action] in (changes or {})
        ):
            case_ids.add(case_id)
    if case_ids:
        mark_dirty(*Case.objects.filter(pk__in=case_ids).values_list("received_at", flat=True))


@work.handler(receivers.SLA_START_WORK)
def start_sla_clocks(case_pks: list[int]) -> int:
    return receivers.start_sla_clocks(case_pks)


@work.handler(receivers.CUSTOMER_MESSAGES_WORK)
def note_customer_messages(messages: list[tuple[int, Any]]) -> int:
    return receivers.note_customer_messages(messages)
