"""Every customer message is read after its commit (jobs.work: recorded with the write, done by
the worker); an agent's change of a case's category is kept as a label."""

from __future__ import annotations

from typing import Any

from madoguchi.cases import signals
from madoguchi.cases.models import InteractionKind
from madoguchi.jobs import work


def on_interaction_added(sender: Any, interaction: Any, **kwargs: Any) -> None:
    from madoguchi.triage.services import READ_WORK

    if interaction.kind == InteractionKind.INBOUND:
        work.defer(READ_WORK, [interaction.pk])


def on_case_updated(sender: Any, case: Any, changes: dict[str, Any], actor: Any = None, **kwargs: Any) -> None:
    if actor is not None and "category" in changes:
        from madoguchi.triage.services import record_label

        record_label(case, actor)


def connect() -> None:
    signals.interaction_added.connect(on_interaction_added, dispatch_uid="triage_interaction_added")
    signals.case_updated.connect(on_case_updated, dispatch_uid="triage_case_updated")
