"""Minute jobs: SLA warnings and breaches, and the rollup of days that changed."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from madoguchi.metrics.rollup import mark_dirty, refresh_dirty
from madoguchi.metrics.sla import check_sla


@db_periodic_task(crontab(minute="*"))
def check_sla_job() -> dict[str, int]:
    return check_sla()


@db_periodic_task(crontab(minute="*"))
def refresh_rollups_job() -> int:
    mark_recent_side_changes()
    return refresh_dirty()


def mark_recent_side_changes(minutes: int = 5) -> None:
    """Commitments and compensations change without a case signal: mark the days of
    cases whose promises or compensations changed in the last few minutes."""
    import datetime as dt

    from django.db.models import Q
    from django.utils import timezone

    from madoguchi.cases.models import Case

    since = timezone.now() - dt.timedelta(minutes=minutes)
    changed = Case.objects.filter(
        Q(commitments__created_at__gte=since) | Q(commitments__closed_at__gte=since)
        | Q(commitments__due_at__gte=since, commitments__due_at__lte=timezone.now())
        | Q(compensations__created_at__gte=since) | Q(compensations__decided_at__gte=since)
    ).values_list("received_at", flat=True).distinct()[:5000]
    mark_dirty(*changed)
