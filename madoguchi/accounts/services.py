"""Authority (意思決定の権限): how much compensation a user may grant alone."""

from __future__ import annotations

from collections.abc import Callable

from madoguchi.accounts.models import (
    DEFAULT_CUSTOMER_PERIOD_DAYS,
    AuthorityLimit,
    CompensationPolicy,
    Role,
    Team,
    User,
)

# Used until an admin sets limits: an agent may give up to ¥3,000, a lead up to ¥30,000.
DEFAULT_LIMITS_YEN = {Role.AGENT: 3000, Role.LEAD: 30000}


def compensation_limit_yen(user: User) -> int | None:
    """The user's limit in yen, or None when the user has no limit (admins)."""
    if user.is_admin:
        return None
    limit = AuthorityLimit.objects.filter(role=user.role).values_list("max_compensation_yen", flat=True).first()
    if limit is not None:
        return int(limit)
    return DEFAULT_LIMITS_YEN.get(Role(user.role), 0)


def can_approve(user: User, amount_yen: int) -> bool:
    """Leads and admins approve requests within their own limit."""
    if not (user.is_admin or user.is_lead):
        return False
    limit = compensation_limit_yen(user)
    return limit is None or amount_yen <= limit


def customer_period_days() -> int:
    """Over how many days compensations to one customer count together (0: they do not)."""
    days = CompensationPolicy.objects.filter(pk=1).values_list("customer_period_days", flat=True).first()
    return DEFAULT_CUSTOMER_PERIOD_DAYS if days is None else int(days)


def do_set_availability(user: User, availability: str) -> None:
    """対応可能 / 離席 / 休暇: away and on-vacation people get no case by a team's rule."""
    user.availability = availability
    User.objects.filter(pk=user.pk).update(availability=availability)


def do_set_customer_period_days(days: int) -> None:
    CompensationPolicy.objects.update_or_create(pk=1, defaults={"customer_period_days": days})


def default_team() -> Team | None:
    """The team a case gets when nothing else says which: the shop's first team (lowest id)."""
    return Team.objects.order_by("id").first()


def decides_for_team(user: User, team: Team | None) -> bool:
    """A lead decides requests on their own team's cases; an admin decides any, and alone
    decides those on a case of no team (no lead may reach across teams through them)."""
    if user.is_admin:
        return True
    return user.is_lead and team is not None and team.lead_id == user.pk


def approvers_for(user: User | None, team: Team | None = None) -> list[User]:
    """Who is asked to approve or is told of an escalation: the team's lead, else every admin."""
    team = team or (user.team if user else None)
    if team is not None and team.lead_id is not None and team.lead is not None and team.lead.is_active:
        return [team.lead]
    return list(User.objects.filter(role=Role.ADMIN, is_active=True))


def approvers_for_request(requester: User, team: Team | None, amount_yen: int) -> list[User]:
    """Who is asked to approve a compensation above the requester's authority: the case team's
    lead if the lead may grant this amount (the total that counts) and is not the one asking
    (nobody approves their own request), else every admin. A case of no team goes to the admins."""
    lead = team.lead if team is not None and team.lead_id is not None else None
    if lead is not None and lead.is_active and lead.pk != requester.pk and can_approve(lead, amount_yen):
        return [lead]
    return list(User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=requester.pk))


def decision_refusals(user: User) -> Callable[..., str]:
    """why_cannot_decide for many requests: the user's limit is read once, not once per row."""
    from django.utils.translation import gettext as _

    may_decide = user.is_admin or user.is_lead
    limit = compensation_limit_yen(user)

    def refusal(amount_yen: int, requested_by_id: int | None, total_yen: int | None = None) -> str:
        if requested_by_id == user.pk:
            return _("ご自身の申請は判断できません。ほかの承認者が判断します。")
        if not may_decide or (limit is not None and amount_yen > limit):
            return _("上限（%(limit)s円）を超えるため、管理者が判断します。") % {"limit": f"{limit or 0:,}"}
        if limit is not None and total_yen is not None and total_yen > limit:
            return _("承認した場合の合計（%(total)s円）が上限（%(limit)s円）を超えるため、管理者が判断します。") % {
                "total": f"{total_yen:,}", "limit": f"{limit:,}"}
        return ""

    return refusal


def why_cannot_decide(user: User, amount_yen: int, requested_by_id: int | None, *, total_yen: int | None = None) -> str:
    """Why this user may not decide a request ("" when they may), in the user's language.
    `total_yen`: what the shop will have given on the case (or to the customer over the period)
    if this request is approved; the approver's limit applies to it too."""
    return decision_refusals(user)(amount_yen, requested_by_id, total_yen)
