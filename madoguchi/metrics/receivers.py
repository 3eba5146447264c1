"""Receivers of the case desk's signals: SLA clocks, survey on resolution, rollup marks.

They run in the writing transaction (the SLA clock must exist as soon as the case does).
A day is marked dirty once per transaction (`_mark`): a batch of 100 mails received on
one day costs one mark, not 100; the mark still commits or rolls back with the writes."""

from __future__ import annotations

from typing import Any

from madoguchi import after_commit
from madoguchi.cases.models import InteractionKind, Status
from madoguchi.metrics import sla, survey
from madoguchi.metrics.rollup import local_day, mark_dirty


def _mark(moment: Any) -> None:
    if after_commit.first_in_transaction(("metrics.dirty", local_day(moment))):
        mark_dirty(moment)


def on_case_created(sender: Any, case: Any, **kwargs: Any) -> None:
    sla.sla_for(case)
    _mark(case.received_at)


def on_interaction(sender: Any, interaction: Any, **kwargs: Any) -> None:
    case = interaction.case
    # A response is written by an agent: automatic messages (out-of-hours acknowledgements,
    # the survey invitation) have no author and do not stop the clock.
    if interaction.kind == InteractionKind.OUTBOUND and interaction.author_id and not survey.sending_invitation.get():
        sla.on_reply(case, interaction.occurred_at)
    elif interaction.kind == InteractionKind.INBOUND and interaction.occurred_at > case.received_at:
        sla.on_customer_message(case, interaction.occurred_at)
    else:
        return
    _mark(case.received_at)


def on_status_changed(sender: Any, case: Any, old: str, new: str, **kwargs: Any) -> None:
    from django.utils import timezone

    sla.on_status(case, old, new, timezone.now())
    if new == Status.RESOLVED and old != Status.CLOSED:
        survey.do_invite(case)
    _mark(case.received_at)
