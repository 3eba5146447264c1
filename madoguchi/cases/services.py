"""Every write to a case happens here (Zulip's do_* style), so the web UI, the channels,
the worker and the tests share one set of rules: audit trail, optimistic lock, authority.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from madoguchi.accounts.models import Team, User
from madoguchi.accounts.services import (
    approvers_for,
    approvers_for_request,
    compensation_limit_yen,
    decides_for_team,
    default_team,
    why_cannot_decide,
)
from madoguchi.cases import assignment, authority, record_merge, signals
from madoguchi.cases.models import (
    AuditEvent,
    Case,
    Channel,
    Commitment,
    CommitmentState,
    Compensation,
    CompensationState,
    Handover,
    Interaction,
    InteractionKind,
    Status,
)
from madoguchi.notifications.services import do_notify, msgid

MAX_COMPENSATION_YEN = 10_000_000


class CaseError(ValueError):
    """A rule of the desk was broken; the message is shown to the user as it is (Japanese)."""


class CaseConflict(CaseError):
    """The case changed since the form was opened; nothing was written. `clashes` names the
    record fields both people changed (empty when the conflict is not about the record)."""

    def __init__(self, case: Case, changed_by: User | None, clashes: list[str] | None = None) -> None:
        who = str(changed_by) if changed_by else _("他の担当者")
        super().__init__(_(
            "この案件は%(who)sさんが先に更新しました。あなたの入力は消えていません。"
            "最新の内容を確認してから、もう一度保存してください。"
        ) % {"who": who})
        self.case = case
        self.changed_by = changed_by
        self.clashes = clashes or []


def _last_actor(case: Case) -> User | None:
    last = AuditEvent.objects.filter(case=case).select_related("actor").order_by("-at", "-id").first()
    return last.actor if last else None


def _audit(case: Case, actor: User | None, action: str, changes: dict[str, Any] | None = None) -> None:
    AuditEvent.objects.create(case=case, actor=actor, action=action, changes=changes or {})


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return value


def _create_case(
    *,
    actor: User | None,
    customer: Any,
    subject: str,
    channel: str,
    category: Any,
    complaint: str,
    received_at: dt.datetime | None = None,
    assignee: User | None = None,
    team: Team | None = None,
    first_message_from_customer: bool = True,
    **fields: Any,
) -> Case:
    """Open a case; the complaint, verbatim, is also the first entry of its timeline."""
    case = new_case(customer=customer, subject=subject, channel=channel, category=category, complaint=complaint,
                    received_at=received_at, assignee=assignee, team=team, **fields)
    case.save(force_insert=True)
    received_at = case.received_at
    first = None
    if complaint and first_message_from_customer:
        first = Interaction.objects.create(
            case=case,
            kind=InteractionKind.INBOUND,
            channel=channel,
            # For a phone call the handling agent is the one who took it (seed 000's 担当者名).
            author=actor if channel == Channel.PHONE else None,
            occurred_at=received_at,
            body=complaint,
        )
    _audit(case, actor, "created", _created_changes(case))
    signals.case_created.send(sender=Case, case=case, actor=actor)
    if first is not None:
        signals.interaction_added.send(sender=Interaction, interaction=first, actor=actor)
    return case


# The write in a transaction of its own (a savepoint inside another); `_create_case` is the same
# write without it, for a caller whose own savepoint covers it (do_create_case_in_savepoint).
do_create_case = transaction.atomic(_create_case)


def _add_interaction(
    case: Case,
    *,
    actor: User | None,
    kind: str,
    channel: str,
    body: str,
    occurred_at: dt.datetime | None = None,
    external_id: str = "",
) -> Interaction:
    interaction = new_interaction(case, actor=actor, kind=kind, channel=channel, body=body,
                                  occurred_at=occurred_at, external_id=external_id)
    interaction.save(force_insert=True)
    updates = status_updates(case, kind, by_person=interaction.author_id is not None)
    # The first reply by an agent on a case nobody has makes it theirs (issue 22).
    takes = kind == InteractionKind.OUTBOUND and actor is not None and case.assignee_id is None
    if takes:
        updates["assignee"] = actor
    if updates:
        Case.objects.filter(pk=case.pk).update(version=F("version") + 1, updated_at=timezone.now(), **updates)
        old_status = case.status
        if "status" in updates:
            _audit(case, actor, "status_changed", {"status": [case.status, updates["status"]]})
        if takes:
            _audit(case, actor, "assigned", {"assignee": [None, _jsonable(actor)], "why": "first_reply"})
        for key, value in updates.items():
            setattr(case, key, value)
        case.version += 1
        if "status" in updates:
            signals.case_status_changed.send(sender=Case, case=case, old=old_status, new=case.status, actor=actor)
    signals.interaction_added.send(sender=Interaction, interaction=interaction, actor=actor)
    return interaction


do_add_interaction = transaction.atomic(_add_interaction)  # _add_interaction: as _create_case


def new_case(
    *, customer: Any, subject: str, channel: str, category: Any, complaint: str,
    received_at: dt.datetime | None = None, assignee: User | None = None, team: Team | None = None,
    find_team: bool = True, **fields: Any,
) -> Case:
    """The case `do_create_case` opens, checked but not saved yet. Its team: the one given, else
    the assignee's, else, for a case nobody has yet (from mail, chat or a form), the shop's first
    team. A caller that looked the team up already (mail, once per batch) passes find_team=False.
    (A case of an agent who belongs to no team has no team: the admins decide its approvals.)"""
    received_at = received_at or timezone.now()
    if received_at > timezone.now() + dt.timedelta(minutes=5):
        raise CaseError(_("受付日時が未来になっています。"))
    # Every case has a team from the start, so its approvals stay within a team's limits.
    team = team or (assignee.team if assignee else (default_team() if find_team else None))
    # A case nobody has gets an agent by its team's rule (off by default); it stays 新規 until
    # a person answers.
    by_rule = None if assignee is not None else assignment.pick(team)
    case = Case(
        customer=customer, subject=subject, channel=channel, category=category, complaint=complaint,
        received_at=received_at, assignee=assignee or by_rule, team=team,
        status=Status.OPEN if assignee else Status.NEW, **fields,
    )
    case.assigned_by_rule = team.assignment_rule if by_rule is not None and team is not None else ""  # type: ignore[attr-defined]
    return case


def _created_changes(case: Case) -> dict[str, Any]:
    changes = {"channel": case.channel, "assignee": _jsonable(case.assignee)}
    if getattr(case, "assigned_by_rule", ""):
        changes["assigned_by_rule"] = case.assigned_by_rule  # type: ignore[attr-defined]
    return changes


def new_interaction(
    case: Case, *, actor: User | None, kind: str, channel: str, body: str,
    occurred_at: dt.datetime | None = None, external_id: str = "",
) -> Interaction:
    """The entry `do_add_interaction` adds, checked but not saved yet."""
    if not body.strip():
        raise CaseError(_("内容が空です。"))
    occurred_at = occurred_at or timezone.now()
    if occurred_at > timezone.now() + dt.timedelta(minutes=5):
        raise CaseError(_("日時が未来になっています。"))
    return Interaction(case=case, kind=kind, channel=channel, author=actor, body=body,
                       occurred_at=occurred_at, external_id=external_id)


def status_updates(case: Case, kind: str, by_person: bool = True) -> dict[str, Any]:
    """What adding an entry of `kind` changes on the case (empty: nothing). `by_person`: the
    entry has a human author. A message the desk sends by itself (acknowledgement, after-hours
    answer, survey invitation) changes nothing: 新規 means no person has answered yet."""
    if kind == InteractionKind.INBOUND and case.status in (Status.WAITING_CUSTOMER, Status.RESOLVED, Status.CLOSED):
        # The customer wrote again: the case needs an agent again.
        return {"status": Status.OPEN, "resolved_at": None}
    if kind == InteractionKind.OUTBOUND and by_person and case.status == Status.NEW:
        return {"status": Status.OPEN}
    return {}


def do_create_in_bulk(entries: list[Case | Interaction], actor: User | None = None) -> None:
    """For a batch writer inside its transaction (the mail worker): cases from `new_case`, opened
    without a first entry of their own (do_create_case's first_message_from_customer=False), and
    entries from `new_interaction` that change no case's status (`status_updates` empty), written
    with one insert per table instead of one per row. Each case gets its audit entry; then
    case_created and interaction_added are sent for every entry in the order given, as
    do_create_case and do_add_interaction send them (receivers find every row saved)."""
    cases = [entry for entry in entries if isinstance(entry, Case)]
    interactions = [entry for entry in entries if isinstance(entry, Interaction)]
    if any(status_updates(entry.case, entry.kind, entry.author_id is not None) for entry in interactions):
        raise CaseError("do_create_in_bulk: an entry would change its case's status; use do_add_interaction")
    Case.objects.bulk_create(cases)
    AuditEvent.objects.bulk_create(
        [AuditEvent(case=case, actor=actor, action="created", changes=_created_changes(case)) for case in cases]
    )
    for interaction in interactions:
        interaction.case = interaction.case  # the case id, now that a case opened above has one
    Interaction.objects.bulk_create(interactions)
    for entry in entries:
        if isinstance(entry, Case):
            signals.case_created.send(sender=Case, case=entry, actor=actor)
        else:
            signals.interaction_added.send(sender=Interaction, interaction=entry, actor=actor)


def do_create_case_in_savepoint(**kwargs: Any) -> Case:
    """`do_create_case` for a caller that already holds a savepoint of its own around this call
    (mail filing a batch: one savepoint per mail, which a failure rolls back whole): the same
    rows, audit entry and signals, without a second, nested savepoint. Outside a transaction it
    is exactly `do_create_case`."""
    if not transaction.get_connection().in_atomic_block:
        return do_create_case(**kwargs)
    return _create_case(**kwargs)


def do_add_interaction_in_savepoint(case: Case, **kwargs: Any) -> Interaction:
    """`do_add_interaction` without its nested savepoint, for a caller holding its own (see
    `do_create_case_in_savepoint`)."""
    if not transaction.get_connection().in_atomic_block:
        return do_add_interaction(case, **kwargs)
    return _add_interaction(case, **kwargs)


# Channel apps may say how a reply on their case travels now (a chat the customer left, a web
# form: by e-mail); each returns a channel or None. Registered in AppConfig.ready().
REPLY_CHANNEL_RESOLVERS: list[Any] = []
# Channels whose replies some app delivers (mail: email, chat: chat), added in their ready().
# A reply on any other channel (a phone case) is recorded, not sent, and the agent is told so.
DELIVERED_CHANNELS: set[str] = set()


# Channel → how a message to the customer on it is finished before it is recorded (mail: the
# signature), as (case, author or None, body) → body. Registered in AppConfig.ready(). The
# entry keeps the finished text, so the timeline shows what the customer got.
REPLY_FINISHERS: dict[str, Any] = {}


def finished_body(case: Case, actor: User | None, channel: str, body: str) -> str:
    finish = REPLY_FINISHERS.get(channel)
    return str(finish(case, actor, body)) if finish is not None and body.strip() else body


# Apps that act on a reply's other fields once it is recorded, in the same transaction: as
# (case, actor, the reply form's cleaned data) → lines telling the agent what was done
# (knowledge: a template's macro). A CaseError undoes the reply too. Registered in ready().
REPLY_ACTIONS: list[Any] = []


def reply_channel(case: Case) -> str:
    for resolve in REPLY_CHANNEL_RESOLVERS:
        found = resolve(case)
        if found:
            return found
    return case.channel


class ReplyCollision(CaseError):
    """Somebody replied to the customer after the agent opened the page: nothing was sent.
    `replies` are the newer replies (oldest first), to show before the agent confirms."""

    def __init__(self, replies: list[Interaction]) -> None:
        names = "、".join(dict.fromkeys(str(reply.author) for reply in replies))
        super().__init__(_(
            "%(who)sさんが、あなたがこの案件を開いた後にお客様へ返信しました。あなたの返信はまだ送っていません。"
            "相手の返信を確かめて、それでも送る場合は「それでも送信」を押してください。"
        ) % {"who": names})
        self.replies = replies


def newer_replies(case: Case, seen_up_to: int) -> list[Interaction]:
    """Replies a person sent on the case after the entry `seen_up_to` (automatic ones aside)."""
    return list(Interaction.objects.filter(case=case, kind=InteractionKind.OUTBOUND, author__isnull=False, pk__gt=seen_up_to)
                .select_related("author").order_by("id"))


@transaction.atomic
def do_send_reply(
    case: Case, *, actor: User, body: str, channel: str | None = None,
    seen_up_to: int | None = None,
) -> Interaction:
    """A reply to the customer written on the case page. The channel app that owns the
    case's channel (mail, chat, …) delivers it on `interaction_added`; delivery state is
    kept by that app, the words are kept here verbatim.

    `seen_up_to`: the last timeline entry the agent had on screen. If a person replied after
    it, nothing is sent (ReplyCollision); the agent confirms by sending again with the newest
    reply they were shown as `seen_up_to`. The case row is locked first, so of two agents sending
    at the same moment the second sees the first's reply (no double reply to the customer)."""
    current = Case.objects.select_for_update().only("pk", "version", "status", "assignee_id").get(pk=case.pk)
    case.version, case.status, case.assignee_id = current.version, current.status, current.assignee_id
    if seen_up_to is not None:
        newer = newer_replies(case, seen_up_to)
        if newer:
            raise ReplyCollision(newer)
    channel = channel or reply_channel(case)
    return _add_interaction(case, actor=actor, kind=InteractionKind.OUTBOUND, channel=channel,
                            body=finished_body(case, actor, channel, body))


@transaction.atomic
def do_take_case(case: Case, *, actor: User, expected_version: int, to_user: User | None = None) -> Case:
    """「自分が担当」: the actor takes the case (from nobody, or from a colleague: their open
    promises on it come along, as on a handover). Refused if the case changed since it was read.
    `to_user`: give it to that person instead (a macro's assignee)."""
    to_user = to_user or actor
    current = Case.objects.select_for_update(of=("self",)).select_related("assignee").get(pk=case.pk)
    if current.version != expected_version:
        raise CaseConflict(current, _last_actor(current))
    if current.assignee_id == to_user.pk:
        return current
    if current.status in (Status.RESOLVED, Status.CLOSED):
        raise CaseError(_("解決済み・完了の案件は担当にできません。"))
    previous = current.assignee
    changes: dict[str, Any] = {"assignee": [_jsonable(previous), to_user.pk]}
    current.assignee = to_user
    if current.team_id is None and to_user.team_id is not None:
        changes["team"] = [None, to_user.team_id]
        current.team_id = to_user.team_id
    current.version = expected_version + 1
    current.save(update_fields=["assignee", "team", "version", "updated_at"])
    moved = _move_open_promises(current, previous, to_user)
    if moved:
        changes["commitments"] = moved
    _audit(current, actor, "taken" if to_user == actor else "handed_over", changes)
    told = [person for person in (previous, to_user) if person is not None and person.is_active and person.pk != actor.pk]
    if told:
        do_notify(told, kind="handover", case=current, message=gettext_noop("%(case)s %(subject)s を%(actor)sさんが担当しました。"),
                  params={"case": current.number, "subject": current.subject, "actor": str(to_user)})
    return current


EDITABLE_FIELDS = {
    "subject", "category", "priority", "status", "order", "product", "passage",
    "complaint", "solution", "landing_point",
    "fact_order_number", "fact_product", "fact_what_happened", "fact_when", "checklist",
}


@transaction.atomic
def do_update_case(
    case: Case, *, actor: User, expected_version: int, changes: dict[str, Any], base: dict[str, str] | None = None,
) -> Case:
    """Write `changes` if nobody changed the case since `expected_version` was read. If somebody
    did, `base` (the record's fingerprints when the form was opened) lets the fields only this
    agent changed be written anyway (`record_merge`); a field both changed is never overwritten."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise CaseError(_("変更できない項目です: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    current = Case.objects.select_for_update().get(pk=case.pk)
    if current.version != expected_version:
        mine = record_merge.changed_by_agent(changes, base or {})
        clashes = record_merge.clashes(current, mine, base or {})
        if clashes:
            raise CaseConflict(current, _last_actor(current), clashes)
        changes, expected_version = mine, current.version
    diff = {
        name: [_jsonable(getattr(current, name)), _jsonable(value)]
        for name, value in changes.items()
        if getattr(current, name) != value
    }
    if not diff:
        return current
    old_status = current.status
    for name, value in changes.items():
        setattr(current, name, value)
    if "status" in diff:
        if current.status == Status.RESOLVED and current.resolved_at is None:
            current.resolved_at = timezone.now()
        elif current.status not in (Status.RESOLVED, Status.CLOSED):
            current.resolved_at = None
    current.version = expected_version + 1
    current.save()
    _audit(current, actor, "updated", diff)
    signals.case_updated.send(sender=Case, case=current, changes=diff, actor=actor)
    if "status" in diff:
        signals.case_status_changed.send(sender=Case, case=current, old=old_status, new=current.status, actor=actor)
    return current


def set_by_person(case: Case, field: str) -> bool:
    """Whether a person chose this field of the case: opened the case (a phone call logged on
    /cases/new/) or changed the field since."""
    events = AuditEvent.objects.filter(case=case, actor__isnull=False)
    return events.filter(Q(action="created") | Q(changes__has_key=field)).exists()


@transaction.atomic
def do_classify_case(case: Case, *, category: Any = None, priority: int | None = None,
                     reason: dict[str, Any] | None = None) -> Case:
    """What the desk's reader (triage) found in a customer's message, written to a case that
    no person has categorised or prioritised: the category once (the first message read
    decides), the priority only ever raised. No actor; audited as 「classified」 with the reading."""
    current = Case.objects.select_for_update().get(pk=case.pk)
    changes: dict[str, Any] = {}
    if (category is not None and current.category_id != category.pk and not set_by_person(current, "category")
            and not AuditEvent.objects.filter(case=current, action="classified", changes__has_key="category").exists()):
        changes["category"] = category
    if priority is not None and priority > current.priority and not set_by_person(current, "priority"):
        changes["priority"] = priority
    if not changes:
        return current
    diff: dict[str, Any] = {name: [_jsonable(getattr(current, name)), _jsonable(value)] for name, value in changes.items()}
    for name, value in changes.items():
        setattr(current, name, value)
    current.version += 1
    current.save()
    _audit(current, None, "classified", {**diff, **({"reading": reason} if reason else {})})
    return current


@transaction.atomic
def do_hand_over(
    case: Case, *, actor: User, expected_version: int, note: str,
    to_user: User | None = None, to_team: Team | None = None,
) -> Handover:
    """Reassign with a handover note, so the next agent re-enters nothing (SPEC §2)."""
    if not note.strip():
        raise CaseError(_("引き継ぎメモを入力してください。次の担当者がお客様に同じことを聞かずに済むように。"))
    if to_user is None and to_team is None:
        raise CaseError(_("引き継ぎ先の担当者またはチームを選んでください。"))
    current = Case.objects.select_for_update().get(pk=case.pk)
    if current.version != expected_version:
        raise CaseConflict(current, _last_actor(current))
    new_team = to_team or (to_user.team if to_user else None) or current.team
    handover = Handover.objects.create(
        case=current, from_user=current.assignee, to_user=to_user, to_team=new_team, note=note.strip()
    )
    changes = {"assignee": [_jsonable(current.assignee), _jsonable(to_user)], "team": [_jsonable(current.team), _jsonable(new_team)]}
    current.assignee = to_user
    current.team = new_team
    current.version = expected_version + 1
    if current.status == Status.NEW and to_user is not None:
        current.status = Status.OPEN
    current.save()
    moved = _move_open_promises(current, handover.from_user, to_user)
    if moved:
        changes["commitments"] = moved
    _audit(current, actor, "handed_over", changes)
    if to_user is not None and to_user != actor:
        do_notify([to_user], kind="handover", case=current, message=gettext_noop("%(case)s %(subject)s を%(actor)sさんから引き継ぎました。"),
                  params={"case": current.number, "subject": current.subject, "actor": str(actor)})
    return handover


def _move_open_promises(case: Case, from_user: User | None, to_user: User | None) -> list[str]:
    """The previous agent's open promises on this case go with the case: the next agent now owes
    them (and is reminded and escalated to). A department's promises stay with the department."""
    if from_user is None or to_user is None or from_user == to_user:
        return []
    open_promises = Commitment.objects.filter(case=case, state=CommitmentState.OPEN, owner=from_user)
    descriptions = list(open_promises.values_list("description", flat=True))
    open_promises.update(owner=to_user)
    return descriptions


@transaction.atomic
def do_add_commitment(
    case: Case, *, actor: User, description: str, due_at: dt.datetime,
    owner: User | None = None, department: str = "", internal: bool = False,
) -> Commitment:
    if not description.strip():
        raise CaseError(_("約束の内容を入力してください。"))
    if due_at <= timezone.now():
        raise CaseError(_("期限が過去の日時になっています。これからの日時を指定してください。"))
    if owner is None and not department.strip():
        owner = actor
    commitment = Commitment.objects.create(
        case=case, description=description.strip(), due_at=due_at, owner=owner,
        department=department.strip(), created_by=actor, internal=internal,
    )
    _audit(case, actor, "commitment_added", {"description": commitment.description, "due_at": due_at.isoformat(),
                                             **({"internal": True} if internal else {})})
    return commitment


@transaction.atomic
def do_close_commitment(commitment: Commitment, *, actor: User, kept: bool) -> Commitment:
    if commitment.state != CommitmentState.OPEN:
        raise CaseError(_("この約束はすでに完了しています。"))
    commitment.state = CommitmentState.KEPT if kept else CommitmentState.BROKEN
    commitment.closed_at = timezone.now()
    commitment.save(update_fields=["state", "closed_at"])
    _audit(commitment.case, actor, "commitment_closed", {"description": commitment.description, "state": commitment.state})
    return commitment


@transaction.atomic
def do_request_compensation(case: Case, *, actor: User, kind: str, amount_yen: int, reason: str) -> Compensation:
    """Grant within the actor's authority; above it, wait for a lead's approval (SPEC §4).
    The limit applies to the total on the case (granted and waiting) and, over the shop's
    period, to the total for the customer (cases/authority.py): a limit cannot be split.
    A request that waits says why in `hold_reason` (not stored)."""
    if amount_yen <= 0:
        raise CaseError(_("金額は1円以上で入力してください。"))
    if amount_yen > MAX_COMPENSATION_YEN:
        raise CaseError(_("金額が大きすぎます（上限 %(limit)s 円）。") % {"limit": f"{MAX_COMPENSATION_YEN:,}"})
    if not reason.strip():
        raise CaseError(_("補償の理由を入力してください。"))
    case = authority.lock_for_compensation(case)
    limit = compensation_limit_yen(actor)
    totals = authority.exposure(case)
    hold_reason = "" if limit is None else totals.hold_reason(amount_yen, limit)
    within = not hold_reason
    compensation = Compensation.objects.create(
        case=case, kind=kind, amount_yen=amount_yen, reason=reason.strip(), requested_by=actor,
        state=CompensationState.GRANTED if within else CompensationState.PENDING,
        approved_by=actor if within else None,
        decided_at=timezone.now() if within else None,
    )
    compensation.hold_reason = hold_reason
    _audit(case, actor, "compensation_requested", {
        "kind": kind, "amount_yen": amount_yen, "state": compensation.state,
        "counted_yen": totals.for_requester(amount_yen),
    })
    if within:
        signals.compensation_decided.send(sender=Compensation, compensation=compensation, actor=actor)
    if not within:
        do_notify(
            approvers_for_request(actor, case.team, totals.if_approved(amount_yen)), kind="approval", case=case,
            message=gettext_noop("%(case)s %(kind_label)s %(amount_yen)sの承認依頼（%(actor)sさん、上限%(limit_yen)s、承認後の合計%(total_yen)s）"),
            params={"case": case.number, "kind_label": msgid(compensation.get_kind_display()), "amount_yen": amount_yen, "actor": str(actor),
                    "limit_yen": limit or 0, "total_yen": totals.if_approved(amount_yen)},
        )
    return compensation


@transaction.atomic
def do_decide_compensation(compensation: Compensation, *, actor: User, approve: bool, note: str = "") -> Compensation:
    """A lead of the case's team, or an admin, grants or refuses a request that waits. The
    approver's own limit applies to the total if approved (granted on the case, or for the
    customer over the period, plus this request). The case's assignee hears of the decision,
    and the requester too if it is somebody else (the case may have been handed over since)."""
    case = authority.lock_for_compensation(compensation.case)
    current = (Compensation.objects.select_for_update(of=("self",)).select_related("requested_by")
               .get(pk=compensation.pk))
    current.case = case
    if current.state != CompensationState.PENDING:
        raise CaseError(_("この申請はすでに判断済みです。"))
    if not decides_for_team(actor, case.team):
        if case.team is None:
            raise CaseError(_("この案件はチームが決まっていないため、補償は管理者が判断します。"))
        raise CaseError(_("この案件の補償は、案件のチームのリーダーか管理者が判断します。"))
    total = authority.exposure(case, excluding=current.pk).if_approved(current.amount_yen)
    refusal = why_cannot_decide(actor, current.amount_yen, current.requested_by_id, total_yen=total)
    if refusal:
        raise CaseError(refusal)
    current.state = CompensationState.GRANTED if approve else CompensationState.REJECTED
    current.approved_by = actor
    current.decision_note = note.strip()[:300]
    current.decided_at = timezone.now()
    current.save()
    _audit(case, actor, "compensation_decided", {"amount_yen": current.amount_yen, "state": current.state})
    signals.compensation_decided.send(sender=Compensation, compensation=current, actor=actor)
    told = [person for person in (case.assignee, current.requested_by)
            if person is not None and person.is_active and person.pk != actor.pk]
    if told:
        do_notify(
            list({person.pk: person for person in told}.values()), kind="approval_decided", case=case,
            message=gettext_noop("%(case)s %(kind_label)s %(amount_yen)sが承認されました。") if approve
            else gettext_noop("%(case)s %(kind_label)s %(amount_yen)sが却下されました。"),
            params={"case": case.number, "kind_label": msgid(current.get_kind_display()), "amount_yen": current.amount_yen},
        )
    return current


def escalate_overdue_commitments(now: dt.datetime | None = None, batch: int = 500) -> int:
    """Tell the team lead (and the owner) of every promise that passed its due date unkept.

    Each commitment is escalated once (escalated_at), so the periodic job can run every minute.
    """
    now = now or timezone.now()
    overdue = (
        Commitment.objects.filter(state=CommitmentState.OPEN, due_at__lt=now, escalated_at__isnull=True)
        .select_related("case__team__lead", "case__assignee__team__lead", "owner")
        .order_by("due_at", "id")[:batch]
    )
    count = 0
    for commitment in overdue:
        with transaction.atomic():
            updated = Commitment.objects.filter(pk=commitment.pk, escalated_at__isnull=True).update(escalated_at=now)
            if not updated:
                continue  # another worker took it
            case = commitment.case
            recipients = approvers_for(case.assignee, case.team)
            for person in (commitment.owner, case.assignee):  # who owes it, and who has the case now
                if person is not None and person.is_active and person not in recipients:
                    recipients.append(person)
            do_notify(
                recipients, kind="commitment_overdue", case=case,
                message=gettext_noop("%(case)s 約束「%(promise)s」の期限（%(due_at)s）を過ぎています。"),
                params={"case": case.number, "promise": commitment.description, "due_at": commitment.due_at.isoformat()},
            )
            _audit(case, None, "commitment_escalated", {"description": commitment.description})
            signals.commitment_overdue.send(sender=Commitment, commitment=commitment, recipients=recipients)
            count += 1
    return count


SHOP_FIELDS = {"order", "product", "passage"}


@transaction.atomic
def do_point_case(case: Case, *, actor: User | None, changes: dict[str, Any], action: str,
                  note: dict[str, Any] | None = None) -> Case:
    """Point the case at an order, product or passage (`shop.desk`: the order lookup, the
    automatic link and its undo). Written with the case row locked, the version bumped (an open
    record form merges it: these are not its fields) and audited as `action` with each field's
    old → new plus `note` (e.g. the other customer whose order an agent chose)."""
    unknown = set(changes) - SHOP_FIELDS
    if unknown:
        raise CaseError(_("変更できない項目です: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    current = Case.objects.select_for_update().get(pk=case.pk)
    diff: dict[str, Any] = {
        name: [_jsonable(getattr(current, name)), _jsonable(value)]
        for name, value in changes.items() if getattr(current, name) != value
    }
    if not diff and not note:
        return current
    for name, value in changes.items():
        setattr(current, name, value)
    current.version += 1
    current.save(update_fields=[*changes, "version", "updated_at"])
    _audit(current, actor, action, {**diff, **(note or {})})
    return current
