"""Every write to a case happens here (Zulip's do_* style), so the web UI, the channels,
the worker and the tests share one set of rules: audit trail, optimistic lock, authority.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.apps import apps
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

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
    ACTIVE,
    ACTIVE_STATUSES,
    AuditEvent,
    Case,
    CaseLink,
    Category,
    Channel,
    Commitment,
    CommitmentState,
    Compensation,
    CompensationState,
    Handover,
    Interaction,
    InteractionKind,
    MergeRecord,
    Status,
)
from madoguchi.customers.models import Customer
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


def do_record(case: Case, *, actor: User | None, action: str, changes: dict[str, Any] | None = None) -> None:
    """An entry of the case's audit trail for what a channel app did on the case without
    changing its fields (mail: a reply held for approval, approved, returned, scheduled)."""
    _audit(case, actor, action, changes)


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
    delivery: dict[str, Any] | None = None,
) -> Interaction:
    interaction = new_interaction(case, actor=actor, kind=kind, channel=channel, body=body,
                                  occurred_at=occurred_at, external_id=external_id)
    # How the channel app is to deliver it, read by its interaction_added receiver (mail: CC, BCC).
    interaction.delivery = delivery or {}  # type: ignore[attr-defined]
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


# Channel → the part of the reply form its app adds (mail: CC/BCC, a time to send, approval):
# a class built as cls(data or None, case=, actor=) with `is_valid()`, `delivery` (passed to
# do_send_reply, read back by the channel's receiver) and `hold(case, actor, body)`: a message
# for the agent when the app kept the reply back instead (approval, a time to send; nothing is
# on the timeline until it goes), else None. Registered in AppConfig.ready().
REPLY_OPTIONS: dict[str, Any] = {}


def reply_channel(case: Case) -> str:
    for resolve in REPLY_CHANNEL_RESOLVERS:
        found = resolve(case)
        if found:
            return found
    return case.channel


class ReplyCollision(CaseError):
    """Somebody replied to the customer after the agent opened the page: nothing was sent.
    `replies` are the newer replies (oldest first), to show before the agent confirms."""

    message = gettext_lazy(
        "%(who)sさんが、あなたがこの案件を開いた後にお客様へ返信しました。あなたの返信はまだ送っていません。"
        "相手の返信を確かめて、それでも送る場合は「それでも送信」を押してください。"
    )

    def __init__(self, replies: list[Interaction]) -> None:
        names = "、".join(dict.fromkeys(str(reply.author) for reply in replies))
        super().__init__(str(self.message) % {"who": names})
        self.replies = replies


def newer_replies(case: Case, seen_up_to: int) -> list[Interaction]:
    """Replies a person sent on the case after the entry `seen_up_to` (automatic ones aside)."""
    return list(Interaction.objects.filter(case=case, kind=InteractionKind.OUTBOUND, author__isnull=False, pk__gt=seen_up_to)
                .select_related("author").order_by("id"))


@transaction.atomic
def do_send_reply(
    case: Case, *, actor: User, body: str, channel: str | None = None,
    seen_up_to: int | None = None, delivery: dict[str, Any] | None = None,
) -> Interaction:
    """A reply to the customer written on the case page. The channel app that owns the
    case's channel (mail, chat, …) delivers it on `interaction_added`; delivery state is
    kept by that app, the words are kept here verbatim.

    `seen_up_to`: the last timeline entry the agent had on screen. If a person replied after
    it, nothing is sent (ReplyCollision); the agent confirms by sending again with the newest
    reply they were shown as `seen_up_to`. The case row is locked first, so of two agents sending
    at the same moment the second sees the first's reply (no double reply to the customer)."""
    current = (Case.objects.select_for_update().only("pk", "version", "status", "assignee_id", "merged_into_id")
               .get(pk=case.pk))
    if current.merged_into_id is not None:  # a page left open from before the merge
        raise CaseError(_("この案件は案件 #%(pk)s に統合されました。返信は統合先の案件から送ってください。")
                        % {"pk": current.merged_into_id})
    case.version, case.status, case.assignee_id = current.version, current.status, current.assignee_id
    if seen_up_to is not None:
        newer = newer_replies(case, seen_up_to)
        if newer:
            raise ReplyCollision(newer)
    channel = channel or reply_channel(case)
    return _add_interaction(case, actor=actor, kind=InteractionKind.OUTBOUND, channel=channel,
                            body=finished_body(case, actor, channel, body), delivery=delivery)


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
                  params={"case": current.number, "subject": current.subject, "actor": str(to_user)}, actor=actor)
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


@transaction.atomic
def do_set_status(case: Case, *, actor: User | None, status: str, why: str, only_from: list[str] | None = None) -> Case:
    """A status change the desk makes as part of another action (a case forwarded to another
    department waits for them; their answer brings it back), whatever version the case is at.
    `only_from`: change it only from these statuses (an answer does not reopen a resolved case)."""
    current = Case.objects.select_for_update().get(pk=case.pk)
    if current.status == status or (only_from is not None and current.status not in only_from):
        return current
    old_status = current.status
    Case.objects.filter(pk=current.pk).update(status=status, version=F("version") + 1, updated_at=timezone.now())
    current.status, current.version = status, current.version + 1
    _audit(current, actor, "status_changed", {"status": [old_status, status], "why": why})
    case.status, case.version = current.status, current.version
    signals.case_status_changed.send(sender=Case, case=current, old=old_status, new=status, actor=actor)
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
                  params={"case": current.number, "subject": current.subject, "actor": str(actor)}, actor=actor)
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
            actor=actor,
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
            actor=actor,
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


# --- Merging and linking cases (issue 22, item 4) ---------------------------------------------

# Rows that belong to a case and go with it when it is merged into another, as
# ("app_label.Model", field). The desk's own are listed here; other apps add theirs in
# AppConfig.ready() (mail: its raw and sent mails, so a customer's reply to the old thread finds
# the case the thread now lives in; chat: form attachments; line: messages sent).
MERGE_MOVES: list[tuple[str, str]] = [
    ("cases.Interaction", "case"),
    ("cases.Commitment", "case"),
    ("cases.Compensation", "case"),
    ("cases.Handover", "case"),
]
# One-to-one rows (a chat session): moved only when the target has none of its own.
MERGE_MOVES_ONE: list[tuple[str, str]] = []
# Rows created on the target after a merge make its undo ambiguous (whose are they?), as
# ("app_label.Model", field, creation time field).
MERGE_ACTIVITY: list[tuple[str, str, str]] = [
    ("cases.Interaction", "case", "created_at"),
    ("cases.Commitment", "case", "created_at"),
    ("cases.Compensation", "case", "created_at"),
    ("cases.Handover", "case", "created_at"),
]
# The target's own links to the shop it takes from the source when it has none.
MERGE_FILLED_FIELDS = ("order", "product", "passage")
# How long after a merge 「統合を取り消す」 is offered.
MERGE_UNDO_DAYS = 7


def _lock_pair(first: Case, second: Case) -> tuple[Case, Case]:
    """Lock the customer's row, then both cases' in id order (every merge, undo and link locks in
    this order, as compensation requests do: customer, then case), and return both as they are
    now. PostgreSQL: SELECT … FOR UPDATE; SQLite: the write transaction is BEGIN IMMEDIATE."""
    customers = sorted({first.customer_id, second.customer_id})
    list(Customer.objects.select_for_update().filter(pk__in=customers).order_by("pk").values_list("pk", flat=True))
    rows = {case.pk: case for case in Case.objects.select_for_update().filter(pk__in=[first.pk, second.pk]).order_by("pk")}
    if first.pk not in rows or second.pk not in rows:
        raise CaseError(_("案件が見つかりません。"))
    return rows[first.pk], rows[second.pk]


def merge_refusal(source: Case, target: Case) -> str:
    """Why `source` may not be merged into `target` ("" when it may): shown as it is."""
    if source.pk == target.pk:
        return _("同じ案件には統合できません。別の案件を選んでください。")
    if source.customer_id != target.customer_id:
        return _("案件 %(target)s は別のお客様の案件のため統合できません。統合できるのは同じお客様の案件だけです"
                 "（同じ出来事の案件どうしは「関連する案件」としてリンクできます）。") % {"target": target.number}
    if source.merged_into_id:
        return _("この案件はすでに案件 #%(pk)s に統合されています。") % {"pk": source.merged_into_id}
    if target.merged_into_id:
        return _("案件 %(target)s はすでに案件 #%(pk)s に統合されています。統合先にはその案件を選んでください。") % {
            "target": target.number, "pk": target.merged_into_id}
    if target.status not in ACTIVE_STATUSES:
        return _("案件 %(target)s は解決済み・完了のため統合先にできません。対応中の案件を選んでください。") % {
            "target": target.number}
    return ""


def merge_candidates(case: Case, limit: int = 20) -> list[Case]:
    """The customer's other open cases, newest first: what 「案件を統合」 offers."""
    return list(Case.objects.filter(customer_id=case.customer_id, status__in=ACTIVE_STATUSES, merged_into__isnull=True)
                .exclude(pk=case.pk).only("pk", "subject", "status", "received_at", "customer_id")
                .order_by("-received_at", "-pk")[:limit])


def _move(label: str, field: str, source: Case, target: Case) -> list[int]:
    model = apps.get_model(label)
    ids = list(model.objects.filter(**{field: source.pk}).order_by("pk").values_list("pk", flat=True))
    if ids:
        model.objects.filter(pk__in=ids).update(**{field: target.pk})
    return ids


@transaction.atomic
def do_merge_cases(source: Case, target: Case, *, actor: User | None) -> MergeRecord:
    """Merge `source` into `target`, a case of the same customer: its timeline, promises,
    compensations, handovers and what other apps registered (mails, attachments, …) move to the
    target, whose timeline then interleaves them by time; the target takes the source's order,
    product and passage if it has none. The source is closed with a pointer (`merged_into`), so
    its channels lead to the target. What moved is kept in a `MergeRecord` for
    `do_undo_merge`; both cases are audited."""
    source, target = _lock_pair(source, target)
    refusal = merge_refusal(source, target)
    if refusal:
        raise CaseError(refusal)
    moved: dict[str, list[int]] = {}
    for label, field in MERGE_MOVES:
        ids = _move(label, field, source, target)
        if ids:
            moved[f"{label}:{field}"] = ids
    for label, field in MERGE_MOVES_ONE:
        model = apps.get_model(label)
        if not model.objects.filter(**{field: target.pk}).exists():
            ids = _move(label, field, source, target)
            if ids:
                moved[f"{label}:{field}"] = ids
    filled: dict[str, list[Any]] = {}
    for name in MERGE_FILLED_FIELDS:
        theirs = getattr(source, f"{name}_id")
        if getattr(target, f"{name}_id") is None and theirs is not None:
            filled[name] = [None, theirs]
            setattr(target, f"{name}_id", theirs)
    source_state = {"status": source.status, "resolved_at": _jsonable(source.resolved_at)}
    # A customer message on the source nobody has read yet is now the target's (「新着返信」).
    unread = source.unread_by_assignee and not target.unread_by_assignee
    target.unread_by_assignee = target.unread_by_assignee or source.unread_by_assignee
    now = timezone.now()
    old_status = source.status
    source.status, source.merged_into = Status.CLOSED, target
    source.resolved_at = source.resolved_at or now
    source.unread_by_assignee = False
    source.version += 1
    source.save(update_fields=["status", "merged_into", "resolved_at", "unread_by_assignee", "version", "updated_at"])
    target.version += 1
    target.save(update_fields=[*filled, *(["unread_by_assignee"] if unread else []), "version", "updated_at"])
    record = MergeRecord.objects.create(source=source, target=target, actor=actor, moved=moved, fields=filled,
                                        source_state=source_state)
    counts = {key.split(":")[0]: len(ids) for key, ids in moved.items()}
    _audit(source, actor, "merged_into", {"target": target.pk, "moved": counts, "status": [old_status, Status.CLOSED]})
    _audit(target, actor, "merged_from", {"source": source.pk, "moved": counts, **filled})
    signals.case_status_changed.send(sender=Case, case=source, old=old_status, new=Status.CLOSED, actor=actor)
    signals.cases_merged.send(sender=MergeRecord, record=record, undone=False, actor=actor)
    return record


def undo_refusal(record: MergeRecord, now: dt.datetime | None = None) -> str:
    """Why the merge can no longer be undone ("" while it can): it was undone, it is older than
    MERGE_UNDO_DAYS, the target was merged on, or something new arrived on the target since (a
    message, promise, compensation or handover, or another merge): whose it is is then unknown."""
    now = now or timezone.now()
    if record.undone_at is not None:
        return _("この統合はすでに取り消されています。")
    if now - record.at > dt.timedelta(days=MERGE_UNDO_DAYS):
        return _("統合から%(days)s日を過ぎたため取り消せません。") % {"days": MERGE_UNDO_DAYS}
    target = record.target
    if target.merged_into_id:
        return _("統合先の案件がさらに案件 #%(pk)s に統合されているため取り消せません。先にそちらを取り消してください。") % {
            "pk": target.merged_into_id}
    for label, field, created in MERGE_ACTIVITY:
        if apps.get_model(label).objects.filter(**{field: target.pk, f"{created}__gt": record.at}).exists():
            return _("統合の後に案件 %(target)s で新しいやりとり・約束・補償・引き継ぎがあり、どちらの案件のものか決められないため取り消せません。") % {
                "target": target.number}
    if MergeRecord.objects.filter(target=target, undone_at__isnull=True, at__gt=record.at).exists():
        return _("この後に別の案件も案件 %(target)s に統合されています。新しい統合から順に取り消してください。") % {
            "target": target.number}
    return ""


@transaction.atomic
def do_undo_merge(record: MergeRecord, *, actor: User | None) -> MergeRecord:
    """「統合を取り消す」: put back exactly what the merge moved (rows still on the target),
    the target's fields it filled (if nobody changed them since), and the source's status."""
    source, target = _lock_pair(record.source, record.target)
    record = MergeRecord.objects.select_for_update().get(pk=record.pk)
    record.source, record.target = source, target
    refusal = undo_refusal(record)
    if refusal:
        raise CaseError(refusal)
    back: dict[str, int] = {}
    for key, ids in record.moved.items():
        label, field = key.split(":")
        back[label] = apps.get_model(label).objects.filter(pk__in=ids, **{field: target.pk}).update(**{field: source.pk})
    restored = []
    for name, (before, after) in record.fields.items():
        if getattr(target, f"{name}_id") == after:
            setattr(target, f"{name}_id", before)
            restored.append(name)
    target.version += 1
    target.save(update_fields=[*restored, "version", "updated_at"])
    old_status = source.status
    source.status = record.source_state.get("status", Status.OPEN)
    resolved = record.source_state.get("resolved_at")
    source.resolved_at = dt.datetime.fromisoformat(resolved) if resolved else None
    source.merged_into = None
    source.version += 1
    source.save(update_fields=["status", "merged_into", "resolved_at", "version", "updated_at"])
    record.undone_at, record.undone_by = timezone.now(), actor
    record.save(update_fields=["undone_at", "undone_by"])
    _audit(source, actor, "merge_undone", {"target": target.pk, "moved": back, "status": [old_status, source.status]})
    _audit(target, actor, "merge_undone", {"source": source.pk, "moved": back})
    if source.status != old_status:
        signals.case_status_changed.send(sender=Case, case=source, old=old_status, new=source.status, actor=actor)
    signals.cases_merged.send(sender=MergeRecord, record=record, undone=True, actor=actor)
    return record


def follow_merges(case: Case) -> Case:
    """The case a merged case now lives in (itself when it was never merged): where a channel
    files what the customer sends on the old case's thread."""
    seen = {case.pk}
    while case.merged_into_id is not None and case.merged_into_id not in seen:
        seen.add(case.merged_into_id)
        case = Case.objects.get(pk=case.merged_into_id)
    return case


def other_category() -> Category:
    """「その他」, where a channel files a new case before anyone (or the reader) classifies it."""
    return Category.objects.filter(code="other").first() or Category.objects.get_or_create(
        code="other", defaults={"name": "その他"})[0]


def open_channel_case(customer_id: int, channel: str) -> Case | None:
    """The customer's open case on a conversation channel (LINE, X), where their next message
    goes; else, when their case there was merged into another (`do_merge_cases`), the open case
    it lives on in."""
    found = (Case.objects.filter(ACTIVE, customer_id=customer_id, channel=channel)
             .order_by("-received_at", "-pk").first())
    if found is not None:
        return found
    merged = (Case.objects.filter(customer_id=customer_id, channel=channel, merged_into__isnull=False)
              .order_by("-received_at", "-pk").first())
    if merged is None:
        return None
    target = follow_merges(merged)
    return target if target.is_active else None


@transaction.atomic
def do_link_cases(case: Case, other: Case, *, actor: User | None, note: str = "") -> CaseLink:
    """Link two related cases (the same incident: one delivery delay, many customers) without
    merging them: one symmetric row, shown on both pages, audited on both."""
    if case.pk == other.pk:
        raise CaseError(_("同じ案件どうしはリンクできません。"))
    note = note.strip()
    if len(note) > 200:
        raise CaseError(_("メモは200文字以内で入力してください。"))
    case, other = _lock_pair(case, other)
    low, high = sorted((case, other), key=lambda c: c.pk)
    if CaseLink.objects.filter(case_a=low, case_b=high).exists():
        raise CaseError(_("案件 %(other)s とはすでにリンクしています。") % {"other": other.number})
    try:
        with transaction.atomic():
            link = CaseLink.objects.create(case_a=low, case_b=high, note=note, created_by=actor)
    except IntegrityError as clash:
        raise CaseError(_("案件 %(other)s とはすでにリンクしています。") % {"other": other.number}) from clash
    _audit(case, actor, "linked", {"case": other.pk, "note": note})
    _audit(other, actor, "linked", {"case": case.pk, "note": note})
    return link


@transaction.atomic
def do_unlink_cases(link: CaseLink, *, actor: User | None) -> None:
    """Remove a link between two cases (either page); audited on both."""
    current = CaseLink.objects.select_for_update().filter(pk=link.pk).first()
    if current is None:
        raise CaseError(_("このリンクはすでに外されています。"))
    a, b, note = current.case_a_id, current.case_b_id, current.note
    current.delete()
    AuditEvent.objects.bulk_create([
        AuditEvent(case_id=a, actor=actor, action="unlinked", changes={"case": b, "note": note}),
        AuditEvent(case_id=b, actor=actor, action="unlinked", changes={"case": a, "note": note}),
    ])
