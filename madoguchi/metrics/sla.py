"""SLA clocks per case, driven by the case desk's signals (receivers.py) and a minute job.

Three targets, in business time (businesshours): first response (received → first reply),
next response (a customer message after the first reply → the next reply) and resolution
(received → resolved). All clocks stop while the case waits on the customer or is resolved;
when they restart, the stopped business time is added to every due (`paused_seconds`).

Each target instance is counted once for SLA attainment: when it is met, or when it breaches.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import gettext_noop

from madoguchi.accounts.services import approvers_for
from madoguchi.businesshours.calendar import (
    Calendar,
    add_business_seconds,
    business_seconds_between,
    load,
)
from madoguchi.cases.models import Case, Status
from madoguchi.metrics.models import CaseSla, SlaBreach, SlaPolicy, SlaTarget
from madoguchi.notifications.services import do_notify, msgid

STOPPED = {Status.WAITING_CUSTOMER, Status.RESOLVED, Status.CLOSED}
DONE = {Status.RESOLVED, Status.CLOSED}


_POLICIES = "_madoguchi_sla_policies"


def _policies() -> list[SlaPolicy]:
    """The policies, read once per transaction (the worker starts the clocks of a batch's 100
    cases in one). Outside a transaction read every time. The cache lives as long as a probe
    callback registered with on_commit: the commit, a rollback, or the rollback of the savepoint
    that read them drops the probe, and the next call reads again."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return list(SlaPolicy.objects.order_by("position", "id"))
    cached = connection.__dict__.get(_POLICIES)
    if cached is not None and any(entry[1] is cached[0] for entry in connection.run_on_commit):
        return cached[1]
    policies = list(SlaPolicy.objects.order_by("position", "id"))

    def probe() -> None:
        connection.__dict__.pop(_POLICIES, None)

    connection.__dict__[_POLICIES] = (probe, policies)
    transaction.on_commit(probe)
    return policies


def _forget_policies(**_kwargs: object) -> None:
    transaction.get_connection().__dict__.pop(_POLICIES, None)


post_save.connect(_forget_policies, sender=SlaPolicy, dispatch_uid="metrics.sla.forget_policies.save")
post_delete.connect(_forget_policies, sender=SlaPolicy, dispatch_uid="metrics.sla.forget_policies.delete")


def policy_for(case: Case) -> SlaPolicy | None:
    """The policy matching most of priority, channel, category; ties by position."""
    best, best_score = None, -1
    for policy in _policies():
        fields = (
            (policy.priority, case.priority), (policy.channel or None, case.channel), (policy.category_id, case.category_id)
        )
        if any(want is not None and want != have for want, have in fields):
            continue
        score = sum(want is not None for want, _ in fields)
        if score > best_score:
            best, best_score = policy, score
    return best


def _target_seconds(sla: CaseSla, target: str) -> int:
    policy = sla.policy
    if not policy:
        return 0
    minutes: dict[str, int] = {
        SlaTarget.FIRST: policy.first_response_minutes,
        SlaTarget.NEXT: policy.next_response_minutes,
        SlaTarget.RESOLUTION: policy.resolution_minutes,
    }
    return minutes[target] * 60


def _start(sla: CaseSla, case: Case, target: str) -> tuple[dt.datetime, int]:
    """When the target's clock started, and how much pause happened before that."""
    if target == SlaTarget.NEXT:
        assert sla.next_started_at is not None  # the next-response clock runs only once started
        return sla.next_started_at, sla.next_paused_base
    return case.received_at, 0


def paused_until(sla: CaseSla, now: dt.datetime, calendar: Calendar) -> int:
    """Business seconds stopped so far, including a stop still going on."""
    ongoing = business_seconds_between(sla.paused_since, now, calendar) if sla.paused_since else 0
    return sla.paused_seconds + ongoing


def due_of(sla: CaseSla, case: Case, target: str, paused: int, calendar: Calendar) -> tuple[dt.datetime, dt.datetime]:
    """(due, warn moment) of a running target given the pause so far."""
    start, base = _start(sla, case, target)
    seconds = _target_seconds(sla, target)
    extra = paused - base
    due = add_business_seconds(start, seconds + extra, calendar)
    warn = add_business_seconds(start, seconds * sla.policy.warn_percent // 100 + extra, calendar) if sla.policy else due
    return due, warn


def _mark(sla: CaseSla, mark: str) -> bool:
    """Add a once-only mark; False if it was already there."""
    if mark in sla.marks:
        return False
    sla.marks = [*sla.marks, mark]
    return True


def _count(sla: CaseSla, key: str, met: bool) -> None:
    if _mark(sla, f"counted:{key}"):
        sla.targets_due += 1
        sla.targets_met += met


def _instance_key(sla: CaseSla, target: str) -> str:
    if target != SlaTarget.NEXT:
        return str(target)
    assert sla.next_started_at is not None  # a next-response due or warning exists only once started
    return f"next:{sla.next_started_at.isoformat()}"


def _set_due(sla: CaseSla, case: Case, target: str, paused: int, calendar: Calendar) -> None:
    due, warn = due_of(sla, case, target, paused, calendar)
    setattr(sla, f"{target}_due", due)
    warned = f"warned:{_instance_key(sla, target)}" in sla.marks
    setattr(sla, f"{target}_warn_at", None if warned else warn)


def _running_targets(sla: CaseSla) -> list[str]:
    targets: list[str] = []
    if sla.first_done_at is None:
        targets.append(SlaTarget.FIRST)
    if sla.next_started_at is not None:
        targets.append(SlaTarget.NEXT)
    if sla.resolved_at is None:
        targets.append(SlaTarget.RESOLUTION)
    return targets


def sla_for(case: Case, calendar: Calendar | None = None) -> CaseSla:
    """The case's clocks, started from its received time if they do not exist yet."""
    sla = CaseSla.objects.select_for_update().filter(case=case).first()
    if sla is not None:
        return sla
    calendar = calendar or load()
    sla = CaseSla(case=case, policy=policy_for(case))
    for target in (SlaTarget.FIRST, SlaTarget.RESOLUTION):
        _set_due(sla, case, target, 0, calendar)
    if case.status in STOPPED:
        sla.paused_since = timezone.now()
    sla.save()
    return sla


# The three clock updates lock the clock row, so they need a transaction, but no savepoint of
# their own: they run inside the writer's (one per reply, per mail of a batch, per chat
# message), and an error in them fails that writer's unit anyway.
@transaction.atomic(savepoint=False)
def on_reply(case: Case, at: dt.datetime) -> CaseSla:
    """An agent's reply to the customer: first and next response are met (or late)."""
    calendar = load()
    sla = sla_for(case, calendar)
    paused = paused_until(sla, at, calendar)
    if sla.first_done_at is None:
        sla.first_done_at = at
        sla.first_wall_seconds = max(0, int((at - case.received_at).total_seconds()))
        sla.first_business_seconds = business_seconds_between(case.received_at, at, calendar)
        due, _ = due_of(sla, case, SlaTarget.FIRST, paused, calendar)
        _count(sla, "first", at <= due)
        sla.first_due = sla.first_warn_at = None
    if sla.next_started_at is not None:
        due, _ = due_of(sla, case, SlaTarget.NEXT, paused, calendar)
        _count(sla, _instance_key(sla, SlaTarget.NEXT), at <= due)
        sla.next_started_at = sla.next_due = sla.next_warn_at = None
    sla.save()
    return sla


@transaction.atomic(savepoint=False)
def on_customer_message(case: Case, at: dt.datetime, clock: CaseSla | None = None) -> CaseSla:
    """A customer message after the first reply starts the next-response clock. `clock`: the
    case's clock already read and locked by the caller (a batch of messages), if it has one."""
    calendar = load()
    sla = clock or sla_for(case, calendar)
    if sla.first_done_at is not None and sla.next_started_at is None and at >= sla.first_done_at:
        sla.next_started_at = at
        sla.next_paused_base = paused_until(sla, at, calendar)
        if sla.paused_since is None:
            _set_due(sla, case, SlaTarget.NEXT, sla.next_paused_base, calendar)
        sla.save()
    return sla


@transaction.atomic(savepoint=False)
def on_status(case: Case, old: str, new: str, at: dt.datetime) -> CaseSla:
    calendar = load()
    sla = sla_for(case, calendar)
    if new in DONE and old not in DONE:
        resolved_at = case.resolved_at or at
        due, _ = due_of(sla, case, SlaTarget.RESOLUTION, paused_until(sla, resolved_at, calendar), calendar)
        _count(sla, "resolution", resolved_at <= due)
        sla.resolved_at = resolved_at
        sla.resolution_business_seconds = business_seconds_between(case.received_at, resolved_at, calendar)
        sla.resolution_due = sla.resolution_warn_at = None
    elif old in DONE and new not in DONE:
        sla.reopen_count += 1
        sla.resolved_at = None
        sla.resolution_business_seconds = None
    if new in STOPPED and old not in STOPPED:
        sla.paused_since = at
        # Dues stay as they were (frozen); the minute job skips stopped clocks.
    elif old in STOPPED and new not in STOPPED:
        paused = paused_until(sla, at, calendar)
        sla.paused_seconds, sla.paused_since = paused, None
        for target in _running_targets(sla):
            _set_due(sla, case, target, paused, calendar)
    sla.save()
    return sla


# --- the minute job ---------------------------------------------------------------------------------

TARGETS = (SlaTarget.FIRST, SlaTarget.NEXT, SlaTarget.RESOLUTION)


def _label(target: str) -> str:
    return str(SlaTarget(target).label)


def _send_warnings(target: str, now: dt.datetime, batch: int) -> int:
    field = f"{target}_warn_at"
    rows = (
        CaseSla.objects.filter(**{f"{field}__lte": now, "paused_since__isnull": True})
        .select_related("case__assignee__team__lead", "case__team__lead")
        .order_by(field)[:batch]
    )
    sent = 0
    for sla in rows:
        with transaction.atomic():
            locked = CaseSla.objects.select_for_update().get(pk=sla.pk)
            if getattr(locked, field) is None or locked.paused_since is not None:
                continue  # answered or stopped meanwhile
            if getattr(locked, f"{target}_due") <= now:  # too late to warn: the breach notice says it
                setattr(locked, field, None)
                locked.save(update_fields=[field])
                continue
            warned = _mark(locked, f"warned:{_instance_key(locked, target)}")
            setattr(locked, field, None)
            locked.save(update_fields=[field, "marks"])
            if not warned:
                continue
            case = sla.case
            who = [case.assignee] if case.assignee else approvers_for(None, case.team)
            do_notify(who, kind="sla_warning", case=case,
                      message=gettext_noop("%(case)s %(target_label)sの期限（%(due_at)s）が近づいています。"),
                      params={"case": case.number, "target_label": msgid(SlaTarget(target).label), "due_at": getattr(locked, f"{target}_due").isoformat()})
            sent += 1
    return sent


def _record_breaches(target: str, now: dt.datetime, batch: int) -> int:
    field = f"{target}_due"
    already = SlaBreach.objects.filter(case_id=OuterRef("case_id"), target=target, due_at=OuterRef(field))
    rows = (
        CaseSla.objects.filter(Q(**{f"{field}__lt": now}), paused_since__isnull=True)
        .exclude(Exists(already))
        .select_related("case__assignee__team__lead", "case__team__lead")
        .order_by(field)[:batch]
    )
    recorded = 0
    for sla in rows:
        with transaction.atomic():
            locked = CaseSla.objects.select_for_update().get(pk=sla.pk)
            due = getattr(locked, field)
            if due is None or due >= now or locked.paused_since is not None:
                continue
            breach, created = SlaBreach.objects.get_or_create(case_id=locked.pk, target=target, due_at=due)
            if not created:
                continue
            _count(locked, _instance_key(locked, target), False)
            setattr(locked, f"{target}_warn_at", None)
            locked.save()
            case = sla.case
            leads = approvers_for(case.assignee, case.team)
            breach.escalated_to.set(leads)
            do_notify(leads, kind="sla_breach", case=case,
                      message=gettext_noop("%(case)s %(target_label)sのSLA期限（%(due_at)s）を超過しました。"),
                      params={"case": case.number, "target_label": msgid(SlaTarget(target).label), "due_at": due.isoformat()})
            recorded += 1
    return recorded


def check_sla(now: dt.datetime | None = None, batch: int = 500) -> dict[str, int]:
    """Warn before and escalate at a breach; safe to run every minute and on many workers."""
    now = now or timezone.now()
    result = {"warnings": 0, "breaches": 0}
    for target in TARGETS:
        result["warnings"] += _send_warnings(target, now, batch)
        result["breaches"] += _record_breaches(target, now, batch)
    return result


def timer_state(sla: CaseSla | None, now: dt.datetime | None = None) -> dict | None:
    """What the timer shows: the nearest running due, or that the clock is stopped."""
    if sla is None:
        return None
    now = now or timezone.now()
    if sla.paused_since is not None:
        return {"paused": True}
    dues = [(getattr(sla, f"{t}_due"), t) for t in TARGETS if getattr(sla, f"{t}_due") is not None]
    if not dues:
        return None
    due, target = min(dues)
    return {"paused": False, "due": due, "target": _label(target), "overdue": due < now,
            "warning": sla.__dict__.get(f"{target}_warn_at") is None and due >= now}
