"""A local stand-in for LINE's Messaging API (profile, content, reply, push), for the LINE
channel's tests and its benchmark: a threaded http.server on a free loopback port that answers
as LINE documents it, keeps every request it got, and can be told to answer 429 with
Retry-After or 500 before it answers 200. Push honours X-Line-Retry-Key as LINE does: a key
already accepted is answered 409 and delivers nothing again."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from madoguchi.testing.loopback import LoopbackServer, QuietHandler

SECRET = "line-test-channel-secret-0123456789"
TOKEN = "line-test-access-token"


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    # Accept the message anyway (as if the response were lost on the way back).
    deliver: bool = False


@dataclass
class FakeLine(LoopbackServer):
    profiles: dict[str, dict[str, str]] = field(default_factory=dict)
    contents: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    # What the next reply/push requests get before 200 (consumed in order).
    push_answers: list[Answer] = field(default_factory=list)
    reply_answers: list[Answer] = field(default_factory=list)
    delivered: list[dict[str, Any]] = field(default_factory=list)
    accepted_keys: set[str] = field(default_factory=set)
    # Access tokens it accepts (one per account), and the month's quota it reports.
    tokens: set[str] = field(default_factory=lambda: {TOKEN})
    quota: dict[str, Any] = field(default_factory=lambda: {"type": "limited", "value": 200})
    quota_used: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(QuietHandler):

            def _answer(self, status: int, body: bytes = b"{}", ctype: str = "application/json",
                        headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def _record(self) -> dict[str, Any]:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                entry = {"method": self.command, "path": self.path, "headers": dict(self.headers.items()),
                         "json": json.loads(raw) if raw else None}
                with fake.lock:
                    fake.requests.append(entry)
                return entry

            def _authorised(self) -> bool:
                return self.headers.get("Authorization", "").removeprefix("Bearer ") in fake.tokens

            def do_GET(self) -> None:  # noqa: N802
                self._record()
                if not self._authorised():
                    return self._answer(401, b'{"message":"Authentication failed"}')
                parts = self.path.split("/")
                if self.path == "/v2/bot/message/quota":
                    return self._answer(200, json.dumps(fake.quota).encode())
                if self.path == "/v2/bot/message/quota/consumption":
                    return self._answer(200, json.dumps({"totalUsage": fake.quota_used}).encode())
                if self.path.startswith("/v2/bot/profile/"):
                    profile = fake.profiles.get(parts[-1])
                    if profile is None:
                        return self._answer(404, b'{"message":"Not found"}')
                    return self._answer(200, json.dumps({"userId": parts[-1], **profile}).encode())
                if self.path.startswith("/v2/bot/message/") and self.path.endswith("/content"):
                    found = fake.contents.get(parts[-2])
                    if found is None:
                        return self._answer(404, b'{"message":"Not found"}')
                    return self._answer(200, found[0], found[1])
                return self._answer(404, b'{"message":"Not found"}')

            def do_POST(self) -> None:  # noqa: N802
                entry = self._record()
                if not self._authorised():
                    return self._answer(401, b'{"message":"Authentication failed"}')
                if self.path == "/v2/bot/message/push":
                    key = self.headers.get("X-Line-Retry-Key", "")
                    with fake.lock:
                        if key and key in fake.accepted_keys:
                            return self._answer(409, b'{"message":"The retry key is already accepted"}',
                                                headers={"x-line-accepted-request-id": "accepted"})
                        answer = fake.push_answers.pop(0) if fake.push_answers else Answer(200)
                        if answer.status == 200 or answer.deliver:
                            fake.delivered.append(entry)
                            if key:
                                fake.accepted_keys.add(key)
                    if answer.status != 200:
                        return self._answer(answer.status, b'{"message":"error"}', headers=answer.headers)
                    return self._answer(200, b'{"sentMessages":[{"id":"1","quoteToken":"q"}]}')
                if self.path == "/v2/bot/message/reply":
                    with fake.lock:
                        answer = fake.reply_answers.pop(0) if fake.reply_answers else Answer(200)
                        if answer.status == 200 or answer.deliver:
                            fake.delivered.append(entry)
                    if answer.status != 200:
                        return self._answer(answer.status, b'{"message":"Invalid reply token"}', headers=answer.headers)
                    return self._answer(200, b'{"sentMessages":[{"id":"2","quoteToken":"q"}]}')
                return self._answer(404, b'{"message":"Not found"}')

        return Handler

    def paths(self, prefix: str = "") -> list[str]:
        return [entry["path"] for entry in self.requests if entry["path"].startswith(prefix)]


def webhook_body(*events: dict[str, Any], destination: str = "Udeadbeefdeadbeefdeadbeefdeadbeef") -> bytes:
    return json.dumps({"destination": destination, "events": list(events)}, ensure_ascii=False).encode()


def event(kind: str, user_id: str, event_id: str, timestamp_ms: int, redelivery: bool = False, **fields: Any) -> dict[str, Any]:
    found = {"type": kind, "mode": "active", "timestamp": timestamp_ms, "webhookEventId": event_id,
             "source": {"type": "user", "userId": user_id}, "deliveryContext": {"isRedelivery": redelivery}}
    if kind in ("message", "postback", "follow"):
        found["replyToken"] = f"rt-{event_id}"
    found.update(fields)
    return found
