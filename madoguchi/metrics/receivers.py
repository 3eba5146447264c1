"""Receivers of the case desk's signals: SLA clocks, the survey's schedule, rollup marks.

They run in the writing transaction. A day is marked dirty once per transaction (`_mark`):
a batch of 100 mails received on one day costs one mark, not 100; the mark still commits or
rolls back with the writes.

Starting a new case's clocks (policy, dues in business time) is the costly part. When the
case is opened by a batch (the mail worker files 100 mails per transaction, see
after_commit.batch) the clocks are started by the worker after the commit, one piece of
deferred work per batch (jobs.work, `start_sla_clocks`). The result is the same whenever it runs: the dues count from
the case's received time, and `sla.sla_for` creates the clocks only if nothing (an agent's
reply, a status change, a later mail) created them first. A single case opened from the web
or a form gets its clocks in its own transaction, as before. Customer messages stored by a
batch writer (the chat writer, the mail worker) go the same way: one deferred work per batch
updates the next-response clocks of all its cases (`note_customer_messages`)."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.dateparse import parse_datetime

from madoguchi import after_commit
from madoguchi.cases.models import Case, Channel, Interaction, InteractionKind, Status
from madoguchi.jobs import work
from madoguchi.metrics import sla, survey
from madoguchi.metrics.models import CaseSla
from madoguchi.metrics.rollup import local_day, mark_dirty

log = logging.getLogger(__name__)


def _mark(moment: Any) -> None:
    if after_commit.first_in_transaction(("metrics.dirty", local_day(moment))):
        mark_dirty(moment)


def on_case_created(sender: Any, case: Any, **kwargs: Any) -> None:
    if after_commit.in_batch():
        work.defer(SLA_START_WORK, [case.pk])
    elif case.channel == Channel.PHONE and kwargs.get("actor") is not None:
        # A call an agent logs was answered as it was taken: the first response is the call.
        sla.on_reply(case, case.received_at)
    else:
        sla.sla_for(case)
    _mark(case.received_at)


SLA_START_WORK = "metrics.sla_start"
CUSTOMER_MESSAGES_WORK = "metrics.customer_messages"


def start_sla_clocks(case_pks: list[int]) -> int:
    """The clocks of these cases, if they have none yet; their days marked dirty again
    (the rollup may have been rebuilt before the clocks existed). The handler of
    SLA_START_WORK (metrics/tasks.py)."""
    with transaction.atomic():
        cases = list(Case.objects.filter(pk__in=case_pks).order_by("pk"))
        for case in cases:
            sla.sla_for(case)
        if cases:
            mark_dirty(*(case.received_at for case in cases))
    return len(cases)


def note_customer_messages(messages: list[tuple[int, Any]]) -> int:
    """The next-response clocks for customer messages a batch writer stored: (case id, time)
    pairs, the clocks of all their cases read (and locked) in one query. Applying a case's
    messages in time order gives what one call per message gave: the first message after the
    agent's reply starts the clock, the others find it running (so running it twice, after a
    crash, changes nothing). The handler of CUSTOMER_MESSAGES_WORK (metrics/tasks.py)."""
    by_case: dict[int, list[Any]] = {}
    for case_pk, at in messages:
        by_case.setdefault(case_pk, []).append(parse_datetime(at) if isinstance(at, str) else at)
    with transaction.atomic():
        cases = Case.objects.in_bulk(list(by_case))
        clocks = {c.case_id: c for c in CaseSla.objects.select_for_update().filter(case_id__in=list(by_case))}
        # A message an agent has answered since (this work ran late: after a crash) must not
        # start the clock again.
        answered = dict(
            Interaction.objects.filter(case_id__in=list(by_case), kind=InteractionKind.OUTBOUND, author__isnull=False)
            .values("case_id").annotate(last=Max("occurred_at")).values_list("case_id", "last")
        )
        for case_pk in sorted(by_case):
            case = cases.get(case_pk)
            if case is None:
                continue
            for at in sorted(by_case[case_pk]):
                if case_pk in answered and at <= answered[case_pk]:
                    continue
                clocks[case_pk] = sla.on_customer_message(case, at, clocks.get(case_pk))
    return len(by_case)


def _customer_message_key(case: Any) -> tuple[str, int]:
    return ("metrics.customer_message", case.pk)


def on_interaction(sender: Any, interaction: Any, **kwargs: Any) -> None:
    case = interaction.case
    # A response is written by an agent: automatic messages (out-of-hours acknowledgements,
    # the survey invitation) have no author and do not stop the clock.
    if interaction.kind == InteractionKind.OUTBOUND and interaction.author_id and not survey.sending_invitation.get():
        sla.on_reply(case, interaction.occurred_at)
        after_commit.forget_in_transaction(_customer_message_key(case))
    elif interaction.kind == InteractionKind.INBOUND and interaction.occurred_at > case.received_at:
        if after_commit.in_batch():
            # A batch writer (the chat writer, the mail worker): the worker updates the clocks
            # of all the batch's cases after the commit, in one query, not one per message.
            work.defer(CUSTOMER_MESSAGES_WORK, [(case.pk, interaction.occurred_at)])
        # Only the first customer message after a reply starts the next-response clock; later
        # ones find it running. So within one transaction a case's clock is read once, not
        # once per message, unless a reply came in between.
        elif after_commit.first_in_transaction(_customer_message_key(case)):
            sla.on_customer_message(case, interaction.occurred_at)
    else:
        return
    _mark(case.received_at)


def on_status_changed(sender: Any, case: Any, old: str, new: str, **kwargs: Any) -> None:
    from django.utils import timezone

    sla.on_status(case, old, new, timezone.now())
    after_commit.forget_in_transaction(_customer_message_key(case))
    if new == Status.RESOLVED and old != Status.CLOSED:
        survey.do_schedule(case)  # sent by the minute job after the shop's delay
    elif old in survey.SENDABLE and new not in survey.SENDABLE:
        survey.do_hold(case)  # reopened before the invitation went: none until resolved again
    _mark(case.received_at)
