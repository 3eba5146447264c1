"""The fake LINE API fixture and the helpers the LINE tests share."""

from __future__ import annotations

import time
from typing import Any

import pytest

from madoguchi.testing.fake_line import SECRET, TOKEN, FakeLine, event, sign, webhook_body

USER = "U4af4980629f6f0a8b0f8e5a9e1a2b3c4"

@pytest.fixture
def fake(settings: Any, shop_open: None) -> Any:
    """The fake LINE API, the desk pointed at it; the shop open, so no after-hours answer joins."""
    with FakeLine() as server:
        server.profiles[USER] = {"displayName": "山田 花子", "pictureUrl": "https://profile.line-scdn.net/abc"}
        settings.LINE_CHANNEL_SECRET = SECRET
        settings.LINE_CHANNEL_ACCESS_TOKEN = TOKEN
        settings.LINE_API_BASE = server.url
        settings.LINE_DATA_API_BASE = server.url
        yield server


def now_ms(seconds_ago: float = 0) -> int:
    return int((time.time() - seconds_ago) * 1000)


def post(client: Any, body: bytes, signature: str | None) -> Any:
    headers = {} if signature is None else {"HTTP_X_LINE_SIGNATURE": signature}
    return client.post("/line/webhook/", data=body, content_type="application/json", **headers)


def deliver(client: Any, capture: Any, *events: dict[str, Any]) -> Any:
    body = webhook_body(*events)
    with capture(execute=True):
        response = post(client, body, sign(body))
    assert response.status_code == 200, response.content
    return response


def text(event_id: str, words: str, seconds_ago: float = 0, **extra: Any) -> dict[str, Any]:
    return event("message", USER, event_id, now_ms(seconds_ago),
                 message={"type": "text", "id": f"m{event_id}", "text": words, "quoteToken": "q"}, **extra)
