"""Writes of the metrics capability besides SLA clocks and surveys: outcomes, quality
reviews, targets. Each marks the case's day for the rollup."""

from __future__ import annotations

import math

from django.db import transaction
from django.db.models import Avg, Count
from django.utils.translation import gettext as _

from madoguchi.accounts.models import User
from madoguchi.cases.models import Case
from madoguchi.metrics.definitions import MEASURES_BY_CODE
from madoguchi.metrics.models import DashboardOptions, Outcome, QualityReview, Target
from madoguchi.metrics.rollup import mark_dirty

OUTCOME_FLAGS = ("resolved", "cancelled", "refund_asked", "kept", "upsell")


class MetricsError(ValueError):
    """Shown to the user as it is (Japanese)."""


@transaction.atomic
def do_record_outcome(case: Case, *, actor: User, flags: dict[str, bool]) -> Outcome:
    if flags.get("kept") and flags.get("cancelled"):
        raise MetricsError(_("「解約された」と「解約を思いとどまってもらえた」は同時に選べません。"))
    outcome, _created = Outcome.objects.update_or_create(
        case=case, defaults={**{k: bool(flags.get(k)) for k in OUTCOME_FLAGS}, "recorded_by": actor}
    )
    mark_dirty(case.received_at)
    return outcome


def can_review(user: User, case: Case | None = None) -> bool:
    """An admin reviews any case; a lead reviews the cases of the team they lead (the case's
    team, else its agent's) and cases of no team."""
    if user.is_admin:
        return True
    if not user.is_lead:
        return False
    if case is None:
        return True
    team = case.team or (case.assignee.team if case.assignee else None)
    return team is None or team.lead_id == user.pk


def sees_agent_figures(user: User, agent_id: str | int | None = None) -> bool:
    """Per-agent KPI figures are for leads and admins; an agent sees only their own."""
    return user.is_lead or user.is_admin or (agent_id is not None and str(agent_id) == str(user.pk))


@transaction.atomic
def do_review(
    case: Case, *, reviewer: User, scores: dict[str, int], comment: str, notes: dict[str, str] | None = None
) -> QualityReview:
    if not can_review(reviewer, case):
        raise MetricsError(_("応対品質の評価は、案件のチームのリーダーまたは管理者が行います。"))
    if case.assignee is None:
        raise MetricsError(_("担当者のいない案件は評価できません。"))
    for name in QualityReview.DIMENSIONS:
        if scores.get(name) not in (1, 2, 3, 4, 5):
            raise MetricsError(_("6つの観点すべてに1〜5の点数をつけてください。"))
    return QualityReview.objects.create(
        case=case, agent=case.assignee, reviewer=reviewer, team=case.team or case.assignee.team,
        comment=comment.strip()[:4000], **{name: scores[name] for name in QualityReview.DIMENSIONS},
        notes={name: text.strip()[:1000] for name, text in (notes or {}).items()
               if name in QualityReview.DIMENSIONS and text.strip()},
    )


def review_averages(group_by: str, reviews=None) -> list[dict]:
    """Average score per dimension (and overall) per agent or team."""
    field = {"agent": "agent", "team": "team"}[group_by]
    reviews = QualityReview.objects.all() if reviews is None else reviews
    rows = reviews.values(field).annotate(n=Count("id"), **{d: Avg(d) for d in QualityReview.DIMENSIONS})
    result = []
    for row in rows.order_by(field):
        scores = [row[d] for d in QualityReview.DIMENSIONS]
        row["overall"] = sum(scores) / len(scores)
        result.append(row)
    return result


def targets() -> dict[str, float | None]:
    """Each measure's target: the admin's value, else the default of its definition."""
    values: dict[str, float | None] = {m.code: m.default_target for m in MEASURES_BY_CODE.values()}
    from madoguchi.metrics.definitions import CHANGE_TARGETS

    values.update(CHANGE_TARGETS)
    values.update(dict(Target.objects.values_list("code", "value")))
    return values


@transaction.atomic
def do_set_target(code: str, value: float | None) -> None:
    from madoguchi.metrics.definitions import CHANGE_TARGETS

    if code not in MEASURES_BY_CODE and code not in CHANGE_TARGETS:
        raise MetricsError(_("不明な指標です。"))
    if value is not None and not math.isfinite(value):
        raise ValueError(value)
    if value is None:
        Target.objects.filter(code=code).delete()
    else:
        Target.objects.update_or_create(code=code, defaults={"value": value})


def min_sample() -> int:
    """Below this many answers a rate is shown greyed and nothing is projected from it."""
    options = DashboardOptions.objects.first()
    return options.min_sample if options is not None else DashboardOptions.DEFAULT_MIN_SAMPLE


@transaction.atomic
def do_set_min_sample(n: int) -> DashboardOptions:
    options = DashboardOptions.objects.select_for_update().first() or DashboardOptions()
    options.min_sample = n
    options.full_clean()
    options.save()
    return options
