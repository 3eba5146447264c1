"""The chat's WebSocket ends on the real ASGI application (channels' WebsocketCommunicator)."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync

from madoguchi.cases.models import Channel, Interaction
from madoguchi.chat import services
from madoguchi.chat.models import ChatMessage, ChatSession, SessionState
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


async def hello(comm, **fields):
    await comm.send_json_to({"type": "hello", **fields})
    return await receive_until(comm, "welcome")


def test_a_foreign_origin_cannot_open_the_widget_socket():
    async def scenario():
        comm = widget(origin="http://evil.example")
        connected, _code = await comm.connect()
        return connected

    assert run(scenario) is False


def test_a_100000_character_message_is_refused_with_a_clear_error():
    async def scenario():
        comm = widget()
        await comm.connect()
        await hello(comm)
        await comm.send_json_to({"type": "message", "client_id": "big", "text": "あ" * 100_000})
        error = await receive_until(comm, "error")
        await comm.disconnect()
        return error

    error = run(scenario)
    assert error["code"] == "too_long" and error["client_id"] == "big"
    assert "5,000文字まで" in error["message"]
    assert not ChatMessage.objects.exists()


def test_html_is_stored_and_relayed_verbatim_for_the_widget_to_show_as_text():
    async def scenario():
        comm = widget()
        await comm.connect()
        await hello(comm)
        await comm.send_json_to({"type": "message", "client_id": "h0", "text": "こんにちは"})
        ack = await receive_until(comm, "ack")
        other_tab = widget()  # the sending tab has the ack; the visitor's other tabs get the message
        await other_tab.connect()
        await hello(other_tab, token=ack["token"])
        await comm.send_json_to({"type": "message", "client_id": "h1", "text": "<img src=x onerror=alert(1)>"})
        await receive_until(comm, "ack")
        echo = await receive_until(other_tab, "message")
        await comm.disconnect()
        await other_tab.disconnect()
        return echo

    assert run(scenario)["message"]["text"] == "<img src=x onerror=alert(1)>"


def test_a_flood_of_messages_is_rate_limited_with_a_message(settings):
    settings.MADOGUCHI_CHAT_BURST = 3
    settings.MADOGUCHI_CHAT_PER_MINUTE = 1

    async def scenario():
        comm = widget()
        await comm.connect()
        await hello(comm)
        replies = []
        for n in range(6):
            await comm.send_json_to({"type": "message", "client_id": f"f{n}", "text": f"連投 {n}"})
            while True:
                reply = await comm.receive_json_from(timeout=3)
                if reply["type"] in ("ack", "error"):
                    replies.append(reply)
                    break
        await comm.disconnect()
        return replies

    replies = run(scenario)
    assert [r["type"] for r in replies] == ["ack"] * 3 + ["error"] * 3
    assert replies[-1]["code"] == "rate_limited" and "少し時間をおいて" in replies[-1]["message"]
    assert ChatMessage.objects.filter(sender="customer").count() == 3


def test_a_stale_token_is_told_to_start_over():
    async def scenario():
        comm = widget()
        await comm.connect()
        await comm.send_json_to({"type": "hello", "token": "no-such-token"})
        error = await receive_until(comm, "error")
        welcome = await receive_until(comm, "welcome")
        await comm.disconnect()
        return error, welcome

    error, welcome = run(scenario)
    assert error["code"] == "stale_session"
    assert "session" not in welcome


def test_after_a_drop_the_visitor_resends_and_nothing_is_lost_or_repeated():
    async def scenario():
        first = widget()
        await first.connect()
        await hello(first)
        await first.send_json_to({"type": "message", "client_id": "r1", "text": "一通目"})
        ack = await receive_until(first, "ack")
        await first.disconnect()  # the network drops; r2 was typed but never acknowledged
        second = widget()
        await second.connect()
        welcome = await hello(second, token=ack["token"])
        for client_id, text in (("r1", "一通目"), ("r2", "二通目")):
            await second.send_json_to({"type": "message", "client_id": client_id, "text": text})
            await receive_until(second, "ack")
        await second.disconnect()
        return welcome

    welcome = run(scenario)
    assert [m["client_id"] for m in welcome["messages"] if m["sender"] == "customer"] == ["r1"]
    assert list(ChatMessage.objects.filter(sender="customer").values_list("text", flat=True)) == ["一通目", "二通目"]
    assert Interaction.objects.filter(kind="inbound").count() == 2


def test_typing_and_read_marks_travel_between_visitor_and_agent():
    agent = UserFactory(username="typing-agent")

    async def scenario():
        visitor = widget()
        await visitor.connect()
        await hello(visitor)
        await visitor.send_json_to({"type": "message", "client_id": "t1", "text": "こんにちは"})
        ack = await receive_until(visitor, "ack")
        session_id = ack["session"]["id"]
        from channels.db import database_sync_to_async

        await database_sync_to_async(services.do_take)(session_id, agent=agent)
        desk = agent_socket(agent)
        await desk.connect()
        await desk.send_json_to({"type": "watch", "session_id": session_id})
        await receive_until(desk, "welcome")
        await visitor.send_json_to({"type": "typing", "on": True})
        typing = await receive_until(desk, "typing")
        await desk.send_json_to({"type": "message", "session_id": session_id, "client_id": "a1", "text": "お待たせしました"})
        reply = await receive_until(visitor, "message")
        while reply["message"]["sender"] != "agent":
            reply = await receive_until(visitor, "message")
        await visitor.send_json_to({"type": "read", "up_to": reply["message"]["id"]})
        read = await receive_until(desk, "read")
        await visitor.disconnect()
        await desk.disconnect()
        return typing, reply, read

    typing, reply, read = run(scenario)
    assert typing["sender"] == "customer" and typing["on"] is True
    assert reply["message"]["text"] == "お待たせしました" and reply["message"]["author"]
    assert read["reader"] == "customer"
    assert ChatMessage.objects.get(client_id="a1").read_at is not None
    session = ChatSession.objects.get()
    assert session.state == SessionState.ACTIVE and session.first_agent_reply_at is not None


def test_an_anonymous_agent_socket_is_closed():
    from channels.testing import WebsocketCommunicator

    from madoguchi.asgi import application

    async def scenario():
        comm = WebsocketCommunicator(application, "/ws/chat/agent/", headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")])
        connected, _ = await comm.connect()
        return connected

    assert run(scenario) is False


def test_hello_fields_are_checked_like_the_prechat_form():
    """Issue 21, finding 3: the hello took name, e-mail and order number unchecked, so a client
    could send 「Someone <victim@…>」 (the staff reply went to the victim) or an address with
    CR/LF that jammed the outbox."""

    async def scenario(email: str, client_id: str):
        comm = widget()
        await comm.connect()
        await hello(comm, name="悪意\r\nBcc: x@example.net", email=email, order_number="KM-1\nX")
        await comm.send_json_to({"type": "message", "client_id": client_id, "text": "返金してください"})
        ack = await receive_until(comm, "ack")
        await comm.disconnect()
        return ack

    for n, email in enumerate(["Someone <victim@example.jp>", "victim@example.jp\r\nBcc: spam@example.net", "ａｂｃ＠ｅｘａｍｐｌｅ．ｊｐ"]):
        ack = async_to_sync(scenario)(email, f"h{n}")
        session = ChatSession.objects.get(pk=ack["session"]["id"])
        assert "\n" not in session.name and "\r" not in session.name and session.order_number == "KM-1 X"
        if n < 2:
            assert session.email == "" and not session.case.customer.identities.exists()
        else:
            assert session.email == "abc@example.jp"


def test_one_token_on_many_sockets_shares_one_rate(settings):
    """Issue 21, finding 4: a chat token used on 100 sockets stored 1,010 messages in 3.4 s,
    each socket with a bucket of its own."""
    settings.MADOGUCHI_CHAT_BURST, settings.MADOGUCHI_CHAT_PER_MINUTE = 5, 30

    async def scenario():
        first = widget()
        await first.connect()
        await hello(first)
        await first.send_json_to({"type": "message", "client_id": "f0", "text": "最初の質問です"})
        ack = await receive_until(first, "ack")
        sockets = []
        for _ in range(20):
            comm = widget()
            await comm.connect()
            await hello(comm, token=ack["token"])
            sockets.append(comm)
        limited = 0
        for n, comm in enumerate(sockets):
            await comm.send_json_to({"type": "message", "client_id": f"s{n}", "text": f"連投 {n}"})
            reply = await receive_until(comm, "ack") if n < 5 else await receive_until(comm, "error")
            limited += reply["type"] == "error" and reply["code"] == "rate_limited"
        for comm in [first, *sockets]:
            await comm.disconnect()
        return ack, limited

    ack, limited = run(scenario)
    assert limited == 15  # the chat's burst of 5 across all its sockets, then refused
    assert ChatMessage.objects.filter(session_id=ack["session"]["id"], sender="customer").count() == 6


def test_one_address_cannot_open_hundreds_of_chats(settings):
    """Issue 21, finding 4: one address opened 500 chats (500 cases and customers) in 1.3 s."""
    settings.MADOGUCHI_CHAT_NEW_PER_ADDRESS_PER_HOUR = 3
    from django.core.cache import cache

    cache.clear()

    async def scenario():
        codes = []
        for n in range(6):
            comm = widget()
            await comm.connect()
            await hello(comm)
            await comm.send_json_to({"type": "message", "client_id": f"n{n}", "text": "在庫はありますか"})
            event = await receive_until(comm, "ack") if n < 3 else await receive_until(comm, "error")
            codes.append(event.get("code", "ack"))
            await comm.disconnect()
        return codes

    assert run(scenario) == ["ack", "ack", "ack", "too_many_chats", "too_many_chats", "too_many_chats"]
    assert ChatSession.objects.count() == 3
