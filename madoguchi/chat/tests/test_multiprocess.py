"""Two `madoguchi serve` processes on the Redis channel layer: a visitor connected to one and
an agent connected to the other still talk."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import websockets

from madoguchi.chat.tests.servers import login_cookie, next_event, redis_available, running_desk


async def _talk(visitor_url: str, agent_url: str, cookie: str, shop: str) -> tuple[dict, dict]:
    async with websockets.connect(agent_url + "/ws/chat/agent/", origin=agent_url.replace("ws", "http", 1), additional_headers={"Cookie": cookie}) as agent, \
            websockets.connect(visitor_url + "/ws/chat/widget/", origin=shop) as visitor:
        await next_event(agent, "waiting")
        await visitor.send(json.dumps({"type": "hello", "page_url": shop + "/"}))
        assert (await next_event(visitor, "welcome"))["open"] is True
        await visitor.send(json.dumps({"type": "message", "client_id": "mp1", "text": "別のプロセスに届きますか"}))
        ack = await next_event(visitor, "ack")
        session_id = ack["session"]["id"]
        waiting = await next_event(agent, "waiting")
        assert session_id in [s["id"] for s in waiting["sessions"]]
        await agent.send(json.dumps({"type": "watch", "session_id": session_id}))
        await next_event(agent, "welcome")
        await visitor.send(json.dumps({"type": "message", "client_id": "mp2", "text": "二通目です"}))
        to_agent = await next_event(agent, "message")
        await visitor.send(json.dumps({"type": "typing", "on": True}))
        typing = await next_event(agent, "typing")
        return to_agent, typing


@pytest.mark.skipif(not redis_available(), reason="Redis is not running on 127.0.0.1:6379")
def test_a_visitor_on_one_process_and_an_agent_on_another_still_talk():
    with running_desk(processes=2) as desk:
        cookie = login_cookie(desk.urls[1], "chat1")
        talk = _talk(desk.urls[0].replace("http", "ws", 1), desk.urls[1].replace("http", "ws", 1), cookie, desk.shop_url)
        # A thread of its own: Playwright's sync API may keep an event loop in this one.
        with ThreadPoolExecutor(1) as pool:
            to_agent, typing = pool.submit(asyncio.run, talk).result(timeout=120)
        assert to_agent["message"]["text"] == "二通目です"
        assert typing["sender"] == "customer"
