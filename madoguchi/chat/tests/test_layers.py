"""The in-memory channel layer of one process (chat/layers.py)."""

from __future__ import annotations

from asgiref.sync import async_to_sync

from madoguchi.chat.layers import InMemoryLayer


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
