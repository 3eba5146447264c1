"""A complaint joins its cluster when the reader has read it: the reading's save defers the
work (jobs.work: in the reading's transaction, done by the worker after the commit, redone by
the sweep if lost), never on the request that brought the message."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save

from madoguchi.jobs import work


def on_reading_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    from madoguchi.patterns.services import ASSIGN_WORK
    from madoguchi.triage.models import MessageKind

    if instance.kind == MessageKind.COMPLAINT:
        work.defer(ASSIGN_WORK, [instance.interaction.case_id])


def on_cases_merged(sender: Any, record: Any, undone: bool, **kwargs: Any) -> None:
    """A case merged into another is the same complaint counted twice: it leaves its cluster.
    A merge undone gives it back to the worker to place again."""
    from madoguchi.patterns.services import ASSIGN_WORK, do_remove_case

    if undone:
        work.defer(ASSIGN_WORK, [record.source_id])
    else:
        do_remove_case(record.source_id)


def connect() -> None:
    from madoguchi.cases import signals
    from madoguchi.triage.models import MessageReading

    post_save.connect(on_reading_saved, sender=MessageReading, dispatch_uid="patterns_reading_saved")
    signals.cases_merged.connect(on_cases_merged, dispatch_uid="patterns_cases_merged")
