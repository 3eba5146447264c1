"""The LINE webhook under ASGI (`madoguchi serve`), answered before Django's middleware: LINE
sends a burst of signed requests at once (a campaign message answered by thousands of
friends), and each must be stored before it is answered. A POST to the webhook's path is
read here, checked (line/webhook.py: host, size, signature, events), handed to the
process's writer, and answered 200 once its batch has committed; anything else goes on to
Django. The webhook needs nothing of the middleware (no session, no CSRF: the signature
is its authentication), and the same checks run in `views.webhook` where Django serves it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.urls import reverse
from django.utils.translation import gettext as _

from madoguchi.line import webhook

log = logging.getLogger(__name__)
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[Mapping[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# How long a request waits for its batch to commit before it is answered 503 (LINE then
# delivers it again; if the batch commits after all, the redelivery is stored once).
STORE_SECONDS = 10.0


async def _answer(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The request's body; None when it grows past `limit` (a Content-Length that lied)."""
    parts, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
        if not message.get("more_body"):
            return b"".join(parts)


def _host_allowed(headers: dict[bytes, bytes]) -> bool:
    domain, _port = split_domain_port(headers.get(b"host", b"").decode("latin-1"))
    return bool(domain) and validate_host(domain, settings.ALLOWED_HOSTS)


async def handle(scope: Scope, receive: Receive, send: Send, account_id: int | None = None) -> None:
    headers = {key.lower(): value for key, value in scope.get("headers", [])}
    if not _host_allowed(headers):
        return await _answer(send, 400, _("このホスト名では受け付けていません。"))
    # The first account's secret is a setting; another account's is read from the database.
    secret = webhook.channel_secret(None) if account_id is None else \
        await database_sync_to_async(webhook.channel_secret)(account_id)
    refused = webhook.length_refused(headers.get(b"content-length", b"").decode("latin-1") or None, secret)
    if refused is not None:
        return await _answer(send, refused.status, refused.text)
    body = await _read_body(receive, settings.LINE_MAX_WEBHOOK_BYTES)
    if body is None:
        return await _answer(send, 413, _("リクエストが大きすぎます。"))
    verdict = webhook.check(body, headers.get(b"x-line-signature", b"").decode("latin-1"), secret, account_id)
    if verdict.status == 200 and verdict.rows:
        try:
            await asyncio.wait_for(asyncio.wrap_future(webhook.writer().submit(verdict.rows)), STORE_SECONDS)
        except Exception:  # noqa: BLE001 - not stored (yet): LINE delivers it again
            log.warning("line: webhook request not stored in time; answered 503", exc_info=True)
            return await _answer(send, 503, _("ただいま受け付けられません。しばらくしてから再送してください。"))
    await _answer(send, verdict.status, verdict.text)


def with_line_webhook(app: ASGIApp) -> ASGIApp:
    """`app` with POSTs to the LINE webhooks (the first account's, and each added account's
    `<path><id>/`) answered here."""
    base: list[str] = []

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") == "POST":
            if not base:
                base.append(reverse("line:webhook"))
            path = str(scope.get("path", ""))
            if path == base[0]:
                return await handle(scope, receive, send)
            rest = path[len(base[0]):] if path.startswith(base[0]) else ""
            if rest.endswith("/") and rest[:-1].isdigit() and rest[:-1].isascii() and len(rest) < 12:
                return await handle(scope, receive, send, int(rest[:-1]))
        await app(scope, receive, send)

    return asgi
