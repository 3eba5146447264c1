"""The printable case (SPEC §3: the record and everything that happened): the record's fields,
the promises and compensations, and one timeline by time of every message, note, handover,
promise made and kept or broken, compensation asked and decided, and change of status.

Read in a fixed number of queries whatever the history's length (the case page's own rows from
`cases.page`, plus promises, compensations and the status changes of the audit trail)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from madoguchi.accounts.models import USER_LABEL_FIELDS, user_label
from madoguchi.cases import page
from madoguchi.cases.models import (
    Case,
    Channel,
    CommitmentState,
    CompensationKind,
    CompensationState,
    InteractionKind,
    Status,
)
from madoguchi.exports.csvfile import stamp
from madoguchi.figures import yen


@dataclass(frozen=True)
class Entry:
    at: dt.datetime
    css: str  # k-inbound, k-outbound, k-note, k-system, k-handover, k-promise, k-compensation, k-status
    title: str
    who: str
    body: str
    channel: str = ""

    @property
    def when(self) -> str:
        return stamp(self.at)


def _labels(choices: Any) -> dict[Any, str]:
    return {value: str(label) for value, label in choices}


def _user_columns(relation: str) -> list[str]:
    return [f"{relation}__{field}" for field in USER_LABEL_FIELDS]


def _who(names: Any) -> str:
    return user_label(*(name or "" for name in names)) if any(names) else ""


def document(pk: int) -> dict[str, Any]:
    case: Case = page.load_case(pk)
    kinds, channels = _labels(InteractionKind.choices), _labels(Channel.choices)
    promise_states, statuses = _labels(CommitmentState.choices), _labels(Status.choices)
    compensation_kinds, compensation_states = _labels(CompensationKind.choices), _labels(CompensationState.choices)
    entries: list[Entry] = []
    for item in page.interaction_rows(case):
        who = item.author_label or (case.customer.name if item.kind == InteractionKind.INBOUND else "")
        entries.append(Entry(item.occurred_at, f"k-{item.kind}", kinds.get(item.kind, item.kind), who, item.body,
                             channels.get(item.channel, item.channel)))
    for handover in page.handover_rows(case):
        entries.append(Entry(handover.created_at, "k-handover", _("引き継ぎ"),
                             f"{handover.from_label or _('未割り当て')} → {handover.to_label}", handover.note))
    promises = list(case.commitments.select_related("owner", "created_by").order_by("due_at", "id"))
    for promise in promises:
        promise.state_label = promise_states.get(promise.state, promise.state)  # type: ignore[attr-defined]
        promise.due_text = stamp(promise.due_at)  # type: ignore[attr-defined]
        owner = str(promise.owner) if promise.owner_id else promise.department
        entries.append(Entry(promise.created_at, "k-promise", _("約束を登録"), str(promise.created_by or ""),
                             _("%(what)s（期限 %(due)s、担当 %(owner)s）") % {
                                 "what": promise.description, "due": promise.due_text, "owner": owner or "—"}))  # type: ignore[attr-defined]
        if promise.closed_at:
            entries.append(Entry(promise.closed_at, "k-promise", _("約束を完了（%(state)s）") % {
                "state": promise.state_label}, "", promise.description))  # type: ignore[attr-defined]
    compensations = list(case.compensations.select_related("requested_by", "approved_by").order_by("created_at", "id"))
    for comp in compensations:
        comp.kind_label = compensation_kinds.get(comp.kind, comp.kind)  # type: ignore[attr-defined]
        comp.state_label = compensation_states.get(comp.state, comp.state)  # type: ignore[attr-defined]
        comp.amount_text = yen(comp.amount_yen)  # type: ignore[attr-defined]
        entries.append(Entry(comp.created_at, "k-compensation", _("補償を申請"), str(comp.requested_by or ""),
                             f"{comp.kind_label} {comp.amount_text}: {comp.reason}"))  # type: ignore[attr-defined]
        if comp.decided_at and comp.state != CompensationState.PENDING:
            note = f"{comp.state_label}" + (f": {comp.decision_note}" if comp.decision_note else "")  # type: ignore[attr-defined]
            entries.append(Entry(comp.decided_at, "k-compensation", _("補償を判断"), str(comp.approved_by or ""), note))
    changes = (case.audit_events.filter(changes__has_key="status").order_by("at", "id")
               .values_list("at", "action", "changes", "actor_id", *_user_columns("actor")))
    for at, _action, diff, actor_id, *names in changes:
        status = (diff or {}).get("status")
        if not isinstance(status, list) or len(status) != 2 or status[0] == status[1]:
            continue
        before, after = status
        text = (f"{statuses.get(before, before)} → {statuses.get(after, after)}" if before
                else str(statuses.get(after, after)))
        entries.append(Entry(at, "k-status", _("状態を変更"), _who(names) if actor_id else _("システム"), text))
    entries.sort(key=lambda entry: entry.at)
    return {
        "case": case,
        "entries": entries,
        "promises": promises,
        "compensations": compensations,
        "received": stamp(case.received_at),
        "resolved": stamp(case.resolved_at),
    }
