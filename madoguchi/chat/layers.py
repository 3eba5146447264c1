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
below (channels-redis) carries events between processes.
"""

from __future__ import annotations

import time
from typing import Any

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer
from channels_redis.core import RedisChannelLayer
from redis.asyncio import BlockingConnectionPool

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


class RedisLayer(RedisChannelLayer):
    """channels-redis, with what the load test of issue 21 found it lacked under load.

    - **A pool that waits.** redis-py's asyncio pool refuses the 101st connection at once
      (`MaxConnectionsError`). When 500 visitors' sockets closed together, a third of them per
      process, each socket's `group_discard` needed a connection at the same moment: 234 failed,
      their disconnects stopped half-way and their visitors stayed "present". This pool lets a
      burst wait its turn for up to `timeout` seconds instead.
    - **A read timeout longer than the layer's blocking pop.** redis-py 8 reads with a 5 s
      socket timeout by default, the same 5 s as channels-redis's BZPOPMIN: on a busy machine the
      read gave up just before Redis answered "nothing yet", and the receive loop's error closed
      the socket (`TimeoutError: Timeout reading`). Settings give it `socket_timeout` (15 s).
    """

    def create_pool(self, index: int) -> BlockingConnectionPool:
        host = dict(self.hosts[index])
        return BlockingConnectionPool.from_url(host.pop("address"), **host)
