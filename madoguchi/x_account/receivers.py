"""Reactions to case events (connected in XAccountConfig.ready)."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from madoguchi.cases.models import Channel, Interaction, InteractionKind
from madoguchi.x_account.outbound import queue_reply

log = logging.getLogger(__name__)


def on_interaction_added(sender: Any, interaction: Interaction, **kwargs: Any) -> None:
    if interaction.kind != InteractionKind.OUTBOUND or interaction.channel != Channel.X:
        return
    # A problem with the queue must never lose the agent's reply (it is the record).
    try:
        with transaction.atomic():
            queue_reply(interaction)
    except Exception:  # noqa: BLE001
        log.exception("x: could not queue the reply of interaction %s", interaction.pk)
