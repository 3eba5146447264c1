"""Chat events from the embedded worker process to the web process's sockets.

On the embedded default the channel layer is in memory (chat/layers.py): it reaches only the
sockets of its own process. The background jobs run in a child process of `serve`
(`madoguchi.worker_process`), and some of them publish chat events: an automatic answer or a
survey in a chat that is still open. The child's layer (`ForwardingLayer`) writes each group
event as a line of JSON to a Unix socket; the web process listens there (`event_bridge`, a part
started by the ASGI lifespan on uvicorn's event loop, where the in-memory layer lives) and
hands each event to its own layer. The socket is in a folder only this user can open.

As everywhere in chat (events.publish), an event that cannot be delivered is dropped with a
warning and never fails the write: the page shows the truth when it is loaded again. With
REDIS_URL (scale mode) the Redis layer does all of this and the bridge is not used.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
from typing import Any

from channels.layers import BaseChannelLayer, get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder

from madoguchi.lifespan import Service, Stop

log = logging.getLogger(__name__)

LINE_LIMIT = 4 * 1024 * 1024  # a chat message is at most MADOGUCHI_CHAT_MAX_MESSAGE_CHARS
SEND_TIMEOUT_SECONDS = 2.0



class ForwardingLayer(BaseChannelLayer):  # type: ignore[misc]
    """The worker's channel layer: group events go to the web process; it has no sockets of
    its own, so it never receives or joins groups."""

    extensions = ["groups"]

    def __init__(self, path: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.path = path
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()  # worker threads publish concurrently

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        self.require_valid_group_name(group)
        line = json.dumps({"group": group, "message": message}, cls=DjangoJSONEncoder).encode() + b"\n"
        with self._lock:
            for _attempt in range(2):  # a connection the web process closed (restart): once more
                try:
                    if self._socket is None:
                        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                        self._socket.settimeout(SEND_TIMEOUT_SECONDS)
                        self._socket.connect(self.path)
                    self._socket.sendall(line)
                    return
                except OSError as error:
                    failure = error
                    self._close()
        log.warning("chat: an event for %s could not reach the web process: %s", group, failure)

    def _close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        raise NotImplementedError("the embedded worker sends to groups only")

    async def receive(self, channel: str) -> dict[str, Any]:
        raise NotImplementedError("the embedded worker has no sockets")

    async def new_channel(self, prefix: str = "specific.") -> str:
        raise NotImplementedError("the embedded worker has no sockets")

    async def group_add(self, group: str, channel: str) -> None:
        raise NotImplementedError("the embedded worker has no sockets")

    async def group_discard(self, group: str, channel: str) -> None:
        raise NotImplementedError("the embedded worker has no sockets")


async def _relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    layer = get_channel_layer()
    try:
        while line := await reader.readline():
            try:
                item = json.loads(line)
                await layer.group_send(item["group"], item["message"])
            except (ValueError, KeyError, TypeError) as error:
                log.warning("chat: a bad event from the worker was dropped: %s", error)
    except (ConnectionError, asyncio.LimitOverrunError, ValueError) as error:
        log.warning("chat: the worker's event connection broke: %s", error)
    finally:
        writer.close()


def event_bridge(path: str) -> Service:
    """The bridge's listener as a lifespan part (madoguchi/lifespan.py)."""

    async def start_event_bridge() -> Stop:
        try:
            server: asyncio.AbstractServer | None = await asyncio.start_unix_server(_relay, path=path, limit=LINE_LIMIT)
        except OSError as error:  # the desk still works; live chat events of jobs wait for a reload
            log.error("chat: the event bridge could not listen at %s: %s", path, error)
            server = None

        async def stop() -> None:
            if server is not None:
                server.close()

        return stop

    return start_event_bridge

