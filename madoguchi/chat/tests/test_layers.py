"""The in-memory channel layer of one process (chat/layers.py)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from typing import Any

import pytest
from asgiref.sync import async_to_sync

from madoguchi.chat.layers import InMemoryLayer, RedisLayer
from madoguchi.chat.tests.servers import REDIS_TEST_URL, redis_available


def test_every_member_of_a_group_hears_every_event_in_order_even_a_thousand_waiting():
    layer = InMemoryLayer()

    async def scenario():
        agent, visitor = await layer.new_channel(), await layer.new_channel()
        await layer.group_add("chat.s.1", agent)
        await layer.group_add("chat.s.1", visitor)
        for n in range(1000):  # an agent's socket stalled for a while: nothing is dropped
            await layer.group_send("chat.s.1", {"type": "chat.event", "n": n})
        heard = [(await layer.receive(agent))["n"] for _ in range(1000)]
        await layer.group_discard("chat.s.1", visitor)
        await layer.group_send("chat.s.1", {"type": "chat.event", "n": "after"})
        return heard, (await layer.receive(visitor))["n"], (await layer.receive(agent))["n"]

    heard, visitor_first, agent_last = async_to_sync(scenario)()
    assert heard == list(range(1000))
    assert visitor_first == 0 and agent_last == "after"


def test_the_embedded_desk_uses_this_layer_and_redis_at_scale():
    from channels.layers import get_channel_layer
    from django.conf import settings

    assert settings.REDIS_URL or settings.CHANNEL_LAYERS["default"]["BACKEND"] == "madoguchi.chat.layers.InMemoryLayer"
    assert isinstance(get_channel_layer(), InMemoryLayer) or settings.REDIS_URL


# --- The Redis layer at scale (issue 21's load test) -----------------------------------------

redis_only = pytest.mark.skipif(not redis_available(), reason="Redis is not running on 127.0.0.1:6379")


def _burst_of_disconnects(layer: Any, sockets: int) -> list[Any]:
    """What a web process does when many chat sockets close at once: each leaves its groups."""

    async def scenario() -> list[Any]:
        channels = [await layer.new_channel() for _ in range(sockets)]
        for channel in channels:
            await layer.group_add("chat.s.burst", channel)
        outcome = await asyncio.gather(*(layer.group_discard("chat.s.burst", c) for c in channels), return_exceptions=True)
        await layer.flush()
        return outcome

    return async_to_sync(scenario)()


@redis_only
def test_sockets_closing_together_wait_their_turn_for_a_redis_connection() -> None:
    host = {"address": REDIS_TEST_URL, "max_connections": 5, "timeout": 20}
    outcome = _burst_of_disconnects(RedisLayer(hosts=[host], prefix=f"t-{uuid.uuid4().hex}"), 60)
    assert [o for o in outcome if isinstance(o, Exception)] == []


@redis_only
def test_channels_redis_alone_refuses_the_burst_which_is_why_the_desk_has_its_own_pool() -> None:
    """The failure of the load test, kept visible: 234 disconnects failed this way in one run."""
    from channels_redis.core import RedisChannelLayer
    from redis.exceptions import MaxConnectionsError

    host = {"address": REDIS_TEST_URL, "max_connections": 5}
    outcome = _burst_of_disconnects(RedisChannelLayer(hosts=[host], prefix=f"t-{uuid.uuid4().hex}"), 60)
    assert any(isinstance(o, MaxConnectionsError) for o in outcome)


@redis_only
def test_at_scale_the_desk_reads_redis_longer_than_the_layers_blocking_pop() -> None:
    """Through the settings a web process loads: with redis-py's default 5 s read timeout and the
    layer's 5 s BZPOPMIN, a busy process's read gave up just before Redis answered and the
    socket was closed (`TimeoutError: Timeout reading`)."""
    script = (
        "import django; django.setup()\n"
        "from channels.layers import get_channel_layer\n"
        "layer = get_channel_layer(); pool = layer.create_pool(0)\n"
        "print(type(layer).__name__, type(pool).__name__, pool.connection_kwargs['socket_timeout'], "
        "layer.brpop_timeout, pool.max_connections)\n"
    )
    env = {**os.environ, "REDIS_URL": REDIS_TEST_URL, "DJANGO_SETTINGS_MODULE": "madoguchi.settings",
           "MADOGUCHI_REDIS_LAYER_CONNECTIONS": "40"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120, check=True)
    name, pool, read_timeout, pop_timeout, connections = out.stdout.split()
    assert (name, pool, connections) == ("RedisLayer", "BlockingConnectionPool", "40")
    assert float(read_timeout) >= float(pop_timeout) + 5
