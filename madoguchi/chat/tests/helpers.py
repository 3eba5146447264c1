"""Helpers for the chat tests: WebSocket clients on the real ASGI application."""

from __future__ import annotations

from typing import Any

from channels.testing import WebsocketCommunicator
from django.db import close_old_connections
from django.test import Client

SHOP = "http://shop.example.jp"


def widget(origin: str = SHOP) -> WebsocketCommunicator:
    from madoguchi.asgi import application

    return WebsocketCommunicator(application, "/ws/chat/widget/", headers=[(b"origin", origin.encode()), (b"host", b"127.0.0.1")])


def agent_socket(user: Any) -> WebsocketCommunicator:
    """An agent's socket carrying a real login session cookie."""
    from madoguchi.asgi import application

    client = Client()
    client.force_login(user)
    # Called from a test's event loop thread too: give back the connection the login opened
    # there, or PostgreSQL will not drop the test database at the end.
    close_old_connections()
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    return WebsocketCommunicator(
        application, "/ws/chat/agent/",
        headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1"), (b"cookie", cookie)],
    )


async def receive_until(comm: WebsocketCommunicator, kind: str, timeout: float = 3) -> dict[str, Any]:
    """The next event of `kind`, skipping the others (typing marks, queue places, …)."""
    while True:
        event = await comm.receive_json_from(timeout=timeout)
        if event.get("type") == kind:
            return event


async def visitor_who_wrote(text: str, client_id: str, name: str = "山田 太郎") -> tuple[WebsocketCommunicator, dict[str, Any]]:
    """A widget socket whose visitor said hello and started a chat with `text`: (socket, ack)."""
    socket = widget()
    await socket.connect()
    await socket.send_json_to({"type": "hello", "name": name})
    await receive_until(socket, "welcome")
    await socket.send_json_to({"type": "message", "client_id": client_id, "text": text})
    return socket, await receive_until(socket, "ack")
