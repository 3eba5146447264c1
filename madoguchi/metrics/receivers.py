"""Receivers of the case desk's signals: SLA clocks, survey on resolution, rollup marks."""

from __future__ import annotations

from typing import Any

from madoguchi.cases.models import InteractionKind, Status
from madoguchi.metrics import sla, survey
from madoguchi.metrics.rollup import mark_dirty


def on_case_created(sender: Any, case: Any, **kwargs: Any) -> None:
    sla.sla_for(case)
    mark_dirty(case.received_at)


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
    mark_dirty(case.received_at)


def on_status_changed(sender: Any, case: Any, old: str, new: str, **kwargs: Any) -> None:
    from django.utils import timezone

    sla.on_status(case, old, new, timezone.now())
    if new == Status.RESOLVED and old != Status.CLOSED:
        survey.do_invite(case)
    mark_dirty(case.received_at)
