"""Chat events published by the embedded worker process reach the sockets of the web process
(chat/bridge.py): the after-hours answer, written by a job in the worker, appears in the
visitor's open chat."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from madoguchi.chat.bridge import ForwardingLayer, event_bridge
from madoguchi.chat.layers import InMemoryLayer
from madoguchi.chat.tests.servers import next_event, running_desk
from madoguchi.lifespan import with_lifespan

CLOSED_TODAY = """
from django.utils import timezone
from madoguchi.businesshours.models import ClosedDay
today = timezone.localdate()
ClosedDay.objects.create(year=today.year, month=today.month, day=today.day, name="臨時休業（テスト）")
"""


async def _after_hours_chat(url: str, shop: str) -> dict:  # type: ignore[type-arg]
    import websockets

    async with websockets.connect(url + "/ws/chat/widget/", origin=shop) as visitor:
        await visitor.send(json.dumps({"type": "hello", "page_url": shop + "/"}))
        await next_event(visitor, "welcome")
        await visitor.send(json.dumps({"type": "message", "client_id": "ah1", "text": "夜分にすみません、注文した急須が割れていました"}))
        await next_event(visitor, "ack")
        return await next_event(visitor, "message", timeout=60)  # the worker polls its queue


def test_the_after_hours_answer_written_by_the_worker_reaches_the_open_chat() -> None:
    with running_desk(processes=1, redis=False, worker=True) as desk:
        desk.shell(CLOSED_TODAY)
        talk = _after_hours_chat(desk.urls[0].replace("http", "ws", 1), desk.shop_url)
        with ThreadPoolExecutor(1) as pool:  # a loop of its own, away from any test loop
            answer = pool.submit(asyncio.run, talk).result(timeout=120)
    assert answer["message"]["sender"] == "agent"
    assert "営業時間" in answer["message"]["text"] or "休業" in answer["message"]["text"]


async def _bridged(path: str, lines: list[bytes]) -> list[dict]:  # type: ignore[type-arg]
    """The web side's lifespan and layer on this loop; `lines` written to it raw, then one
    event through the worker's layer; what a socket in the group received."""
    layer = InMemoryLayer()
    from channels import layers as channel_layers

    channel_layers.channel_layers.backends["default"] = layer
    try:
        app = with_lifespan(lambda scope, receive, send: asyncio.sleep(0), event_bridge(path))  # type: ignore[arg-type, return-value]
        inbox: asyncio.Queue[dict] = asyncio.Queue()  # type: ignore[type-arg]
        await inbox.put({"type": "lifespan.startup"})
        sent: list[dict] = []  # type: ignore[type-arg]

        async def send(message: dict) -> None:  # type: ignore[type-arg]
            sent.append(message)

        lifespan = asyncio.create_task(app({"type": "lifespan"}, inbox.get, send))  # type: ignore[arg-type]
        while not sent:
            await asyncio.sleep(0.01)
        channel = await layer.new_channel()
        await layer.group_add("chat.s.7", channel)
        with socket.socket(socket.AF_UNIX) as raw:
            raw.connect(path)
            for line in lines:
                raw.sendall(line)
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: asyncio.run(ForwardingLayer(path).group_send("chat.s.7", {"type": "chat.event", "n": 2})))
        received = [await asyncio.wait_for(layer.receive(channel), 5)]
        while True:
            try:
                received.append(await asyncio.wait_for(layer.receive(channel), 0.3))
            except TimeoutError:
                break
        await inbox.put({"type": "lifespan.shutdown"})
        await lifespan
        return received
    finally:
        channel_layers.channel_layers.backends.pop("default", None)


def test_bad_lines_from_the_worker_are_dropped_and_the_next_event_still_arrives(caplog: pytest.LogCaptureFixture) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "events.sock")
        lines = [b"not json\n", b'{"group": "chat.s.7"}\n', b'{"group": "chat.s.7", "message": {"type": "chat.event", "n": 1}}\n']
        with caplog.at_level(logging.WARNING, logger="madoguchi.chat.bridge"):
            received = asyncio.run(_bridged(path, lines))
    assert sorted(event["n"] for event in received) == [1, 2]
    assert sum("bad event" in record.message for record in caplog.records) == 2


def test_an_event_with_nobody_listening_is_dropped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with tempfile.TemporaryDirectory() as folder, caplog.at_level(logging.WARNING, logger="madoguchi.chat.bridge"):
        asyncio.run(ForwardingLayer(str(Path(folder) / "nobody.sock")).group_send("chat.agents", {"type": "chat.waiting_changed"}))
    assert any("could not reach the web process" in record.message for record in caplog.records)
