"""The chat's WebSocket ends on the real ASGI application (channels' WebsocketCommunicator)."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync

from madoguchi.cases.models import Channel, Interaction
from madoguchi.chat.models import ChatSession
from madoguchi.chat.tests.helpers import agent_socket, receive_until, widget
from madoguchi.testing.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def run(coro_fn):
    return async_to_sync(coro_fn)()


def test_visitor_message_opens_a_chat_case_and_reaches_the_agent():
    agent = UserFactory(username="chat-agent")

    async def scenario():
        desk = agent_socket(agent)
        assert (await desk.connect())[0]
        await receive_until(desk, "waiting")
        visitor = widget()
        assert (await visitor.connect())[0]
        await visitor.send_json_to({"type": "hello", "page_url": "http://shop.example.jp/items/1", "name": "山田 太郎", "email": "Taro@Example.jp"})
        welcome = await receive_until(visitor, "welcome")
        assert welcome["open"] is True
        await visitor.send_json_to({"type": "message", "client_id": "c1", "text": "注文した商品が届きません"})
        ack = await receive_until(visitor, "ack")
        waiting = await receive_until(desk, "waiting")
        assert waiting["sessions"][0]["id"] == ack["session"]["id"]
        session_id = ack["session"]["id"]
        await desk.send_json_to({"type": "watch", "session_id": session_id})
        watched = await receive_until(desk, "welcome")
        assert [m["text"] for m in watched["messages"] if m["sender"] == "customer"] == ["注文した商品が届きません"]
        await visitor.disconnect()
        await desk.disconnect()
        return ack

    ack = run(scenario)
    session = ChatSession.objects.get(pk=ack["session"]["id"])
    assert session.token == ack["token"]
    assert session.case.channel == Channel.CHAT
    assert session.case.customer.identities.get().value == "taro@example.jp"
    inbound = Interaction.objects.filter(case=session.case, kind="inbound")
    assert list(inbound.values_list("body", "external_id")) == [("注文した商品が届きません", "c1")]
