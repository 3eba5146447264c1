"""The webhook as `madoguchi serve` answers it (line/asgi.py, before Django's middleware): the
same checks as the Django view, and the events of requests arriving together stored in one
transaction before each is answered."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from asgiref.sync import async_to_sync

from madoguchi.line import webhook
from madoguchi.line.models import LineRawEvent
from madoguchi.testing.fake_line import SECRET, TOKEN, FakeLine, event, sign, webhook_body

pytestmark = pytest.mark.django_db(transaction=True)
USER = "U4af4980629f6f0a8b0f8e5a9e1a2b3c4"


@pytest.fixture(autouse=True)
def fake_line(settings: Any, shop_open: None) -> Any:
    """The events are stored, not filed: as under `serve`, the worker files them, and here no
    worker runs (the queued work is dropped after the test)."""
    from huey.contrib.djhuey import HUEY

    import madoguchi.asgi  # noqa: F401 - imported here, in the test's thread: its import reads the database

    before, HUEY.immediate = HUEY.immediate, False
    with FakeLine() as fake:
        fake.profiles[USER] = {"displayName": "山田 花子"}
        settings.LINE_CHANNEL_SECRET, settings.LINE_CHANNEL_ACCESS_TOKEN = SECRET, TOKEN
        settings.LINE_API_BASE = settings.LINE_DATA_API_BASE = fake.url
        try:
            yield fake
        finally:
            assert webhook.writer().idle.wait(10)  # its connection given back before the database goes
            HUEY.flush()
            HUEY.immediate = before


def run(awaitable: Any) -> Any:
    """Await in a loop whose thread-sensitive sync code (Django's views) runs in this thread,
    on the test's own database connection (none is left open in another thread)."""
    async def wrapper() -> Any:
        return await awaitable

    return async_to_sync(wrapper)()


def body_of(n: int, redelivery: bool = False) -> bytes:
    return webhook_body(event("message", USER, f"ASGI{n:05d}", int(time.time() * 1000), redelivery=redelivery,
                              message={"type": "text", "id": f"m{n}", "text": f"{n}件目の問い合わせ"}))


async def post(body: bytes, signature: str | None = None, *, host: bytes = b"127.0.0.1:8000", method: str = "POST",
               length: bytes | None = None, path: str = "/line/webhook/") -> tuple[int, str]:
    sent: list[dict[str, Any]] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await asyncio.Event().wait()  # the client stays until the answer (Django listens for it leaving)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(b"host", host), (b"content-type", b"application/json"),
               (b"content-length", length if length is not None else str(len(body)).encode())]
    if signature is not None:
        headers.append((b"x-line-signature", signature.encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": headers, "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000)}
    from madoguchi.asgi import application  # (its import reads the database)

    await application(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    text = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body").decode()
    return start["status"], text


@pytest.mark.parametrize("how", ["wrong secret", "tampered body", "missing header"])
def test_a_bad_signature_is_refused_before_django_and_nothing_stored(how):
    body = body_of(1)
    signature = {"wrong secret": sign(body, "another-secret"), "tampered body": sign(body), "missing header": None}[how]
    if how == "tampered body":
        body = body.replace("問い合わせ".encode(), "お礼".encode())
    status, text = run(post(body, signature))
    assert status == 401 and "署名" in text
    assert not LineRawEvent.objects.exists()


def test_requests_arriving_together_are_all_stored_in_few_transactions_before_each_answer():
    writer = webhook.writer()
    before = writer.batches
    bodies = [body_of(n) for n in range(300)]

    async def burst() -> list[tuple[int, str]]:
        return await asyncio.gather(*(post(body, sign(body)) for body in bodies))

    answers = run(burst())
    assert answers == [(200, "OK")] * 300
    # answered only once stored: every event is there the moment the last answer came
    assert LineRawEvent.objects.count() == 300
    batches = writer.batches - before
    assert 1 <= batches < 300


def test_a_redelivery_in_the_same_burst_is_stored_once():
    first, again = body_of(7), body_of(7, redelivery=True)

    async def both() -> list[tuple[int, str]]:
        return await asyncio.gather(post(first, sign(first)), post(again, sign(again)))

    assert run(both()) == [(200, "OK"), (200, "OK")]
    assert LineRawEvent.objects.count() == 1


def test_size_host_and_configuration_are_checked_as_the_view_checks_them(settings):
    settings.LINE_MAX_WEBHOOK_BYTES = 100
    body = body_of(2)
    assert run(post(body, sign(body)))[0] == 413
    assert run(post(body, sign(body), length=b"50"))[0] == 413  # a length that lied
    settings.LINE_MAX_WEBHOOK_BYTES = 1024 * 1024
    assert run(post(body, sign(body), host=b"evil.example"))[0] == 400
    assert run(post(b'{"events": 1}', sign(b'{"events": 1}')))[0] == 400
    settings.LINE_CHANNEL_SECRET = ""
    assert run(post(body, sign(body)))[0] == 503
    assert not LineRawEvent.objects.exists()


def test_other_methods_go_on_to_django():
    assert run(post(b"", method="GET"))[0] == 405


def test_an_added_accounts_webhook_is_checked_with_its_own_secret():
    from madoguchi.line.models import LineAccount

    account = LineAccount(name="アウトレット")
    account.set_secrets("0123456789abcdef0123456789abcdef", "second-token")
    account.save()
    body = body_of(3)
    path = f"/line/webhook/{account.pk}/"
    assert run(post(body, sign(body), path=path))[0] == 401  # the first account's secret
    assert run(post(body, sign(body, "0123456789abcdef0123456789abcdef"), path=path)) == (200, "OK")
    assert LineRawEvent.objects.get().account == account
    assert run(post(body, sign(body), path="/line/webhook/12345/"))[0] == 503  # no such account
