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


def connect() -> None:
    from madoguchi.triage.models import MessageReading

    post_save.connect(on_reading_saved, sender=MessageReading, dispatch_uid="patterns_reading_saved")
