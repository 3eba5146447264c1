"""Reactions to case events (connected in MailConfig.ready): send replies, mail staff."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from madoguchi.cases.models import (
    Channel,
    Commitment,
    CommitmentState,
    Interaction,
    InteractionKind,
)
from madoguchi.mail.outbound import queue_reply

log = logging.getLogger(__name__)


def on_interaction_added(sender: Any, interaction: Interaction, **kwargs: Any) -> None:
    if interaction.kind != InteractionKind.OUTBOUND or interaction.channel != Channel.EMAIL:
        return  # inbound mail, notes, other channels: nothing to send (and no savepoint)
    # A problem with the outbox must never lose the agent's reply (it is the record); the
    # case page then shows no delivery state for it, and the error is logged.
    try:
        with transaction.atomic():
            queue_reply(interaction)
    except Exception:  # noqa: BLE001
        log.exception("mail: could not queue the reply of interaction %s", interaction.pk)


def remind_commitments(now: dt.datetime | None = None) -> int:
    """Mail each owner once, some time before a promise falls due: as a notification by mail of
    the kind 「約束の期限」 (notifications.mailing), so the owner's choice and language apply."""
    from madoguchi.notifications.mailing import remind_promise

    now = now or timezone.now()
    soon = now + dt.timedelta(minutes=settings.MAIL_COMMITMENT_REMINDER_MINUTES)
    due = (Commitment.objects.filter(state=CommitmentState.OPEN, due_at__gt=now, due_at__lte=soon, owner__isnull=False)
           .exclude(owner__email="").select_related("case", "owner").order_by("due_at", "pk")[:500])
    queued = 0
    for commitment in due:
        with transaction.atomic():
            queued += remind_promise(commitment)
    return queued
