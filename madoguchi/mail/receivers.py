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
from madoguchi.mail.outbound import queue_reply, queue_staff_mail

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


def _commitment_text(commitment: Commitment, lead: str) -> str:
    case = commitment.case
    due = timezone.localtime(commitment.due_at).strftime("%Y年%m月%d日 %H:%M")
    return (
        f"{lead}\n\n案件: {case.number} {case.subject}\nお客様: {case.customer.name} 様\n"
        f"約束: {commitment.description}\n期限: {due}\n担当: {commitment.owner or commitment.department}\n\n"
        f"{settings.SITE_URL}/cases/{case.pk}/\n"
    )


def on_commitment_overdue(sender: Any, commitment: Commitment, recipients: list[Any], **kwargs: Any) -> None:
    for user in recipients:
        queue_staff_mail(
            to=getattr(user, "email", ""), case=commitment.case, dedupe_key=f"overdue:{commitment.pk}:{user.pk}",
            subject=f"[{commitment.case.number}] 約束の期限を過ぎています: {commitment.description}",
            body=_commitment_text(commitment, "お客様との約束が期限を過ぎても完了していません。至急対応してください。"),
        )


def remind_commitments(now: dt.datetime | None = None) -> int:
    """Mail each owner once, some time before a promise falls due."""
    now = now or timezone.now()
    soon = now + dt.timedelta(minutes=settings.MAIL_COMMITMENT_REMINDER_MINUTES)
    due = (Commitment.objects.filter(state=CommitmentState.OPEN, due_at__gt=now, due_at__lte=soon, owner__isnull=False)
           .exclude(owner__email="").select_related("case__customer", "owner")[:500])
    queued = 0
    for commitment in due:
        queued += bool(queue_staff_mail(
            to=commitment.owner.email, case=commitment.case, dedupe_key=f"remind:{commitment.pk}",  # type: ignore[union-attr]
            subject=f"[{commitment.case.number}] まもなく約束の期限です: {commitment.description}",
            body=_commitment_text(commitment, "お客様との約束の期限が近づいています。"),
        ))
    return queued
