"""Redis away while a chat goes on (issue 21, fault tests). At scale, Redis carries the chat's
events between processes: when it stops, the sockets close (the widget says 「接続が切れました。
再接続しています…」 and keeps unacknowledged messages), and once it is back the visitor and the
agent reconnect, the message sent meanwhile arrives once, and the chat goes on. The Redis here
is the test's own (madoguchi/testing/private_servers.py), so stopping it disturbs nothing else."""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import websockets

from madoguchi.chat.tests.servers import login_cookie, next_event, running_desk
from madoguchi.testing.private_servers import private_redis, redis_bin

pytestmark = pytest.mark.skipif(redis_bin() is None, reason="redis-server is not installed")


async def _closed_within(ws: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic()))
    except websockets.ConnectionClosed:
        return True
    except TimeoutError:
        return False
    return False


async def _connect_when_back(url: str, seconds: float, **kwargs: Any) -> Any:
    """Reconnect as the widget and the agent page do: again and again until it holds."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            ws = await websockets.connect(url, **kwargs)
            return ws
        except (OSError, websockets.InvalidStatus, websockets.InvalidHandshake):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def _scenario(base: str, cookie: str, shop: str, redis: Any) -> dict[str, Any]:
    ws_base = base.replace("http", "ws", 1)
    agent_args = {"origin": base, "additional_headers": {"Cookie": cookie}}
    visitor = await websockets.connect(ws_base + "/ws/chat/widget/", origin=shop)
    await visitor.send(json.dumps({"type": "hello", "page_url": shop + "/"}))
    await next_event(visitor, "welcome")
    await visitor.send(json.dumps({"type": "message", "client_id": "r1", "text": "一通目です"}))
    ack = await next_event(visitor, "ack")
    token, session_id = ack["token"], ack["session"]["id"]

    redis.stop()
    await visitor.send(json.dumps({"type": "message", "client_id": "r2", "text": "止まっている間の二通目"}))
    closed = await _closed_within(visitor, 30)
    await visitor.close()
    redis.start()

    visitor = await _connect_when_back(ws_base + "/ws/chat/widget/", 60, origin=shop)
    await visitor.send(json.dumps({"type": "hello", "token": token}))
    await next_event(visitor, "welcome", timeout=30)
    await visitor.send(json.dumps({"type": "message", "client_id": "r2", "text": "止まっている間の二通目"}))  # resent
    resent = await next_event(visitor, "ack", timeout=30)
    agent = await _connect_when_back(ws_base + "/ws/chat/agent/", 60, **agent_args)
    await agent.send(json.dumps({"type": "watch", "session_id": session_id}))
    welcome = await next_event(agent, "welcome", timeout=30)
    await visitor.send(json.dumps({"type": "message", "client_id": "r3", "text": "戻りました"}))
    live = await next_event(agent, "message", timeout=30)
    await agent.close()
    await visitor.close()
    return {"closed": closed, "resent": resent, "welcome": welcome, "live": live}


def test_a_chat_survives_redis_stopping_and_starting(tmp_path: Any) -> None:
    with private_redis() as redis, running_desk(processes=1, env={"REDIS_URL": redis.url}) as desk:
        cookie = login_cookie(desk.urls[0], "chat1")
        with ThreadPoolExecutor(1) as pool:
            result = pool.submit(asyncio.run, _scenario(desk.urls[0], cookie, desk.shop_url, redis)).result(timeout=300)
        texts = [m["text"] for m in result["welcome"]["messages"]]
    assert result["closed"], "the visitor's socket stayed open with Redis gone: the widget would not know"
    assert result["resent"]["client_id"] == "r2"
    assert texts.count("止まっている間の二通目") == 1 and "一通目です" in texts  # once, nothing lost
    assert result["live"]["message"]["text"] == "戻りました"  # live again through Redis
