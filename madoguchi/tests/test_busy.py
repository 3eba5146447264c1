"""The limit on page requests worked on at once (madoguchi/busy.py): the others wait their
turn in order, one that waited too long is told "busy" in Japanese at once; chat sockets are
not counted. Then the same through `madoguchi serve`, as a shop runs it."""

from __future__ import annotations

import asyncio
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from madoguchi.busy import RequestLimit
from madoguchi.testing.desk_process import ServedDesk, free_port


class SlowPage:
    """An ASGI app whose requests take `seconds` each and note the order they ran in."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ran: list[str] = []
        self.running = 0
        self.most = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.running += 1
        self.most = max(self.most, self.running)
        await asyncio.sleep(self.seconds)
        self.ran.append(scope["path"])
        self.running -= 1
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})


async def _get(app: Any, path: str, cookie: str = "", kind: str = "http") -> tuple[int, dict[bytes, bytes], str]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    headers = [(b"cookie", cookie.encode())] if cookie else []
    await app({"type": kind, "path": path, "headers": headers}, receive, send)
    if kind != "http":
        return 0, {}, ""
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), body.decode()


def test_requests_past_the_limit_wait_their_turn_in_order() -> None:
    page = SlowPage(0.05)
    app = RequestLimit(page, limit=2, wait_seconds=5)

    async def burst() -> list[int]:
        tasks = []
        for n in range(6):
            tasks.append(asyncio.create_task(_get(app, f"/{n}")))
            await asyncio.sleep(0)  # arrive in this order
        return [status for status, _h, _b in await asyncio.gather(*tasks)]

    assert asyncio.run(burst()) == [200] * 6
    assert page.most == 2
    assert page.ran[:2] == ["/0", "/1"] and sorted(page.ran[2:4]) == ["/2", "/3"] and sorted(page.ran[4:]) == ["/4", "/5"]


@pytest.mark.parametrize(("cookie", "words"), [("", "ただいま混み合っています"), ("django_language=en", "busy")])
def test_a_request_that_waited_too_long_is_told_busy_at_once(settings: Any, cookie: str, words: str) -> None:
    app = RequestLimit(SlowPage(0.5), limit=1, wait_seconds=0.05)

    async def two() -> tuple[Any, Any]:
        first = asyncio.create_task(_get(app, "/first"))
        await asyncio.sleep(0)
        second = await _get(app, "/second", cookie)
        return await first, second

    (first_status, _h, _b), (status, headers, body) = asyncio.run(two())
    assert first_status == 200 and status == 503
    assert headers[b"retry-after"] == b"5"
    assert words in body


def test_chat_sockets_are_not_counted() -> None:
    page = SlowPage(0.05)
    app = RequestLimit(page, limit=1, wait_seconds=0)

    async def sockets() -> None:
        await asyncio.gather(*(_get(app, f"/ws/{n}", kind="websocket") for n in range(5)))

    asyncio.run(sockets())
    assert page.most == 5


def _statuses(url: str, count: int) -> list[int]:
    start = threading.Barrier(count)
    found: list[int] = []

    def get() -> None:
        start.wait()
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                found.append(response.status)
        except urllib.error.HTTPError as refused:
            body = refused.read().decode()
            found.append(refused.code if "混み合って" in body else -refused.code)

    threads = [threading.Thread(target=get) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return found


def test_serve_answers_busy_past_its_limit(tmp_path: Path) -> None:
    """One request at a time and no waiting: of 40 at once, some are told busy, none fail."""
    desk = ServedDesk.create(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'desk.sqlite3'}", free_port(),
                             MADOGUCHI_WEB_CONCURRENCY="1", MADOGUCHI_WEB_QUEUE_SECONDS="0")
    desk.start()
    try:
        statuses = _statuses(desk.url + "/login/", 40)
    finally:
        desk.stop()
    assert set(statuses) == {200, 503}, statuses
