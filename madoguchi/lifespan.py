"""What a web process runs beside its requests, started and stopped by the ASGI lifespan on
uvicorn's event loop (where the in-memory channel layer lives): the chat event bridge from the
embedded worker, the web process's heartbeat."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[Mapping[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Stop = Callable[[], Awaitable[None]]
Service = Callable[[], Awaitable[Stop]]  # starts a part; returns how to stop it


def with_lifespan(app: ASGIApp, *services: Service) -> ASGIApp:
    """`app` with `services` started at the lifespan's startup (in order) and stopped at its
    shutdown (in reverse). A part that cannot start is logged; the desk still serves."""

    async def run(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        stops: list[Stop] = []
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                for service in services:
                    try:
                        stops.append(await service())
                    except Exception:
                        log.exception("web: %s could not start", getattr(service, "__name__", service))
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for stop in reversed(stops):
                    try:
                        await stop()
                    except Exception:
                        log.exception("web: a part did not stop cleanly")
                await send({"type": "lifespan.shutdown.complete"})
                return

    return run
