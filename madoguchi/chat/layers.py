"""The in-memory channel layer (embedded default, one process) without its cost per event.

Channels' `InMemoryChannelLayer` walks EVERY channel and EVERY group membership of the process
(`_clean_expired`) on every `receive` and every `group_send`. With 1,000 widget sockets that is
thousands of steps for each event, and each socket calls `receive` after each event, so the
work grows with the square of the connections: in the chat benchmark it took most of the
event loop and relaying stalled. This subclass does the same cleaning at most once a second
(messages expire after 60 s and group memberships after a day, so a second late changes
nothing), sends to a group's members directly instead of one task per member, and holds up
to 1,000 events per channel instead of 100 (an agent's socket hears every chat it watches).

Named in settings.CHANNEL_LAYERS when REDIS_URL is not set; with REDIS_URL the Redis layer
(channels-redis) carries events between processes.
"""

from __future__ import annotations

import time
from typing import Any

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer

CLEAN_EVERY_SECONDS = 1.0


class InMemoryLayer(InMemoryChannelLayer):
    cleaned_at = 0.0

    def __init__(self, capacity: int = 1000, **kwargs: Any) -> None:
        # An agent's socket hears every chat it watches (hundreds): the stock 100 events in
        # hand would drop messages to it after a second's stall under load.
        super().__init__(capacity=capacity, **kwargs)

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self.cleaned_at < CLEAN_EVERY_SECONDS:
            return
        self.cleaned_at = now
        super()._clean_expired()

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        assert isinstance(message, dict), "Message is not a dict"
        self.require_valid_group_name(group)
        self._clean_expired()
        for channel in list(self.groups.get(group, {})):
            try:
                await self.send(channel, message)  # a put_nowait: nothing to wait for
            except ChannelFull:
                pass
