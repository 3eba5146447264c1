"""A limit on the page requests one web process works on at once (issue 21, load).

Under ASGI Django runs each request's sync code in a thread of its own, so a burst of 100
requests became 100 threads taking turns at one interpreter lock, each holding a database
connection: every request slowed down together, and once the pool's connections were all
taken the rest failed after the pool's wait (503), in no particular order. Here at most
MADOGUCHI_WEB_CONCURRENCY page requests run at once; the others wait their turn in arrival
order on the event loop, which costs nothing, and one that has waited
MADOGUCHI_WEB_QUEUE_SECONDS is answered at once with a Japanese "busy, try again" page (503 with
Retry-After), not a 500. WebSockets (chat) and static files are not counted."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from http.cookies import SimpleCookie
from typing import Any

from django.conf import settings
from django.template import loader
from django.utils import translation

from madoguchi.accounts.language import chosen_language

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[Mapping[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
RETRY_AFTER_SECONDS = 5


class RequestLimit:
    def __init__(self, app: ASGIApp, limit: int, wait_seconds: float) -> None:
        self.app = app
        self.limit = limit
        self.wait_seconds = wait_seconds
        self._slots: asyncio.Semaphore | None = None  # made on the server's loop
        self._pages: dict[str, bytes] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.limit <= 0:
            await self.app(scope, receive, send)
            return
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limit)
        if not await self._take(self._slots):
            await self._busy(scope, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self._slots.release()

    async def _take(self, slots: asyncio.Semaphore) -> bool:
        if not slots.locked():
            await slots.acquire()
            return True
        if self.wait_seconds <= 0:
            return False
        try:
            await asyncio.wait_for(slots.acquire(), self.wait_seconds)
        except TimeoutError:
            return False
        return True

    async def _busy(self, scope: Scope, send: Send) -> None:
        body = self._page(_language(scope))
        await send({"type": "http.response.start", "status": 503, "headers": [
            (b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(RETRY_AFTER_SECONDS).encode()), (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "body": body})

    def _page(self, language: str) -> bytes:
        if language not in self._pages:
            with translation.override(language):
                self._pages[language] = loader.get_template("busy.html").render({}).encode()
        return self._pages[language]


def _language(scope: Scope) -> str:
    """The language the user chose, by the cookie rule of accounts.language."""
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            morsel = SimpleCookie(value.decode("latin-1")).get(settings.LANGUAGE_COOKIE_NAME)
            if morsel is not None:
                return chosen_language(morsel.value)
    return chosen_language(None)


def limited(app: ASGIApp) -> ASGIApp:
    return RequestLimit(app, settings.MADOGUCHI_WEB_CONCURRENCY, settings.MADOGUCHI_WEB_QUEUE_SECONDS)
