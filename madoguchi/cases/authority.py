"""What counts against an authority limit (SPEC §4): not one compensation alone, but the total on
the case and, over the shop's period, the total for the customer. Five ¥3,000 coupons on one case
are ¥15,000 of the shop's money, and an agent with a ¥3,000 limit may not give them alone.

Totals are read inside the requesting (or deciding) transaction after `lock_for_compensation`,
so two requests at once see each other: PostgreSQL waits on the customer and case rows
(SELECT … FOR UPDATE); SQLite runs write transactions one at a time (BEGIN IMMEDIATE).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.accounts.services import customer_period_days
from madoguchi.cases.models import Case, Compensation, CompensationState
from madoguchi.customers.models import Customer
from madoguchi.figures import yen

COUNTED_STATES = (CompensationState.GRANTED, CompensationState.PENDING)


def lock_for_compensation(case: Case) -> Case:
    """Lock the customer's row, then the case's (always in this order), and return the case as
    it is now. Every request and decision on the case, or on another case of the customer, waits
    here until this transaction ends."""
    Customer.objects.select_for_update().filter(pk=case.customer_id).values_list("pk", flat=True).first()
    return Case.objects.select_for_update(of=("self",)).select_related("team", "assignee", "customer").get(pk=case.pk)


def _since(days: int, now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) - dt.timedelta(days=days)


@dataclass(frozen=True)
class Exposure:
    """Compensation already on a case and, within the last `period_days`, for its customer."""

    case_granted: int
    case_pending: int
    customer_granted: int
    customer_pending: int
    period_days: int

    def for_requester(self, amount_yen: int) -> int:
        """The total the requester's limit is compared with: what is granted or waiting."""
        case_total = self.case_granted + self.case_pending
        customer_total = self.customer_granted + self.customer_pending
        return max(case_total, customer_total) + amount_yen

    def if_approved(self, amount_yen: int) -> int:
        """The total an approver's limit is compared with: what is granted, plus this request."""
        return max(self.case_granted, self.customer_granted) + amount_yen

    def hold_reason(self, amount_yen: int, limit_yen: int) -> str:
        """Why a request of `amount_yen` waits for approval, in the requester's words ("" if it does not)."""
        if self.for_requester(amount_yen) <= limit_yen:
            return ""
        case_before = self.case_granted + self.case_pending
        customer_before = self.customer_granted + self.customer_pending
        numbers = {"limit": yen(limit_yen), "amount": yen(amount_yen)}
        if case_before and case_before + amount_yen > limit_yen:
            return _("この案件ですでに %(before)s の補償を付与・申請しているため、合計 %(total)s が権限の上限 %(limit)s を超えます。") % {
                **numbers, "before": yen(case_before), "total": yen(case_before + amount_yen)}
        if customer_before and customer_before + amount_yen > limit_yen:
            return _("このお客様には過去%(days)s日間にすでに %(before)s の補償を付与・申請しているため、合計 %(total)s が権限の上限 %(limit)s を超えます。") % {
                **numbers, "days": self.period_days, "before": yen(customer_before),
                "total": yen(customer_before + amount_yen)}
        return _("金額 %(amount)s が権限の上限 %(limit)s を超えます。") % numbers


def _sums(rows: Any) -> tuple[int, int]:
    totals = rows.aggregate(
        granted=Sum("amount_yen", filter=Q(state=CompensationState.GRANTED)),
        pending=Sum("amount_yen", filter=Q(state=CompensationState.PENDING)),
    )
    return int(totals["granted"] or 0), int(totals["pending"] or 0)


def exposure(case: Case, *, excluding: int | None = None, now: dt.datetime | None = None) -> Exposure:
    """The totals for one case (read after `lock_for_compensation`), leaving out compensation
    `excluding` (the request being decided)."""
    counted = Compensation.objects.filter(state__in=COUNTED_STATES)
    if excluding is not None:
        counted = counted.exclude(pk=excluding)
    case_granted, case_pending = _sums(counted.filter(case_id=case.pk))
    days = customer_period_days()
    customer_granted = customer_pending = 0
    if days:
        customer_granted, customer_pending = _sums(
            counted.filter(case__customer_id=case.customer_id, created_at__gte=_since(days, now)))
    return Exposure(case_granted, case_pending, customer_granted, customer_pending, days)


def exposures_for_queue(rows: list[Compensation], now: dt.datetime | None = None) -> dict[int, Exposure]:
    """Exposure of each pending request of the approvals queue, by compensation id, in three
    queries whatever the number of rows (the period, the case sums, the customer sums)."""
    if not rows:
        return {}
    days = customer_period_days()
    case_ids = {row.case_id for row in rows}
    customer_ids = {row.case.customer_id for row in rows}
    by_case: dict[int, dict[str, int]] = defaultdict(lambda: {"granted": 0, "pending": 0})
    for case_id, state, total in (
        Compensation.objects.filter(case_id__in=case_ids, state__in=COUNTED_STATES)
        .values_list("case_id", "state").annotate(total=Sum("amount_yen")).order_by()
    ):
        by_case[case_id][state] += int(total or 0)
    by_customer: dict[int, dict[str, int]] = defaultdict(lambda: {"granted": 0, "pending": 0})
    if days:
        for customer_id, state, total in (
            Compensation.objects.filter(case__customer_id__in=customer_ids, state__in=COUNTED_STATES,
                                        created_at__gte=_since(days, now))
            .values_list("case__customer_id", "state").annotate(total=Sum("amount_yen")).order_by()
        ):
            by_customer[customer_id][state] += int(total or 0)
    result = {}
    for row in rows:
        on_case = by_case[row.case_id]
        for_customer = by_customer[row.case.customer_id]
        # The request itself is pending and counted above: leave it out of "already".
        mine_in_period = days and row.created_at >= _since(days, now)
        result[row.pk] = Exposure(
            on_case["granted"], on_case["pending"] - row.amount_yen,
            for_customer["granted"], for_customer["pending"] - (row.amount_yen if mine_in_period else 0), days,
        )
    return result
