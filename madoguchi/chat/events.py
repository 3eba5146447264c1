"""Channel-layer groups and the events sent to them, from sync code (views, signal receivers).

Groups: one per chat session (the visitor's tabs and the agents watching it), one for every
agent's inbox (waiting list changes), one for waiting visitors (their place in the queue).
Sync senders publish after the transaction commits, so a receiver that reads the row sees it.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

AGENTS = "chat.agents"
QUEUE = "chat.queue"


def session_group(session_id: int) -> str:
    return f"chat.s.{session_id}"


def publish(group: str, event: dict[str, Any]) -> None:
    """Send after commit; a failed send never fails the write (the page reload shows the truth)."""

    def send() -> None:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(group, event)

    transaction.on_commit(send)


def publish_session(session_id: int, kind: str, **data: Any) -> None:
    publish(session_group(session_id), {"type": "chat.event", "event": {"type": kind, "session_id": session_id, **data}})


def publish_queue_changed() -> None:
    publish(AGENTS, {"type": "chat.waiting_changed"})
    publish(QUEUE, {"type": "chat.queue_changed"})
