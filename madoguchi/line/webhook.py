"""What the webhook does with a request, whichever way it came (`views.webhook` under Django,
`asgi.with_line_webhook` under `madoguchi serve`): the signature checked, the events read, then
stored before the answer.

Under `serve` the events of all requests arriving together are stored by one writer thread in
one transaction (group commit: while a batch is written, the next requests queue up and go in
the next one), and each request is answered only once its batch has committed. A commit on a
busy disk costs milliseconds; one per request held the webhook to about 90 requests a second
(bench/line_webhook_bench.py, docs/benchmarks.md). A batch that fails answers 503 to each of
its requests, so LINE delivers them again (stored once: `webhookEventId` is unique)."""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections
from django.utils.translation import gettext as _
from linebot.v3 import SignatureValidator

from madoguchi.line import ingest
from madoguchi.line.models import LineRawEvent

log = logging.getLogger(__name__)


@dataclass
class Verdict:
    """The answer to give (status, text), and the events to store first when it is 200."""

    status: int
    text: str
    rows: list[LineRawEvent] = field(default_factory=list)


def channel_secret(account_id: int | None) -> str:
    """The channel secret requests to this webhook are signed with: the environment's for the
    first account (None), else the account's while it is active ("" if none: 503/404)."""
    if account_id is None:
        return str(settings.LINE_CHANNEL_SECRET)
    from madoguchi.line.models import LineAccount

    account = LineAccount.objects.filter(pk=account_id, active=True).first()
    return account.channel_secret if account is not None else ""


def length_refused(content_length: str | None, secret: str) -> Verdict | None:
    """Before the body is read: no account configured (503), or a body too large (413)."""
    if not secret:
        return Verdict(503, _("LINE公式アカウントが設定されていません。"))
    length = content_length or "0"
    if not length.isdigit() or int(length) > settings.LINE_MAX_WEBHOOK_BYTES:
        return Verdict(413, _("リクエストが大きすぎます。"))
    return None


def check(body: bytes, signature: str, secret: str, account_id: int | None = None) -> Verdict:
    """X-Line-Signature (HMAC-SHA256 of the raw body with the channel secret, compared in
    constant time by the SDK) and the events of a body: 401 and nothing to store when the
    signature is missing or wrong, 400 when the body is not a webhook."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if not signature or text is None or not SignatureValidator(secret).validate(text, signature):
        return Verdict(401, _("署名（X-Line-Signature）を確認できませんでした。"))
    try:
        rows = ingest.parse_events(body)
    except ingest.BadWebhook as error:
        return Verdict(400, _("LINEのWebhookとして読めませんでした: %(reason)s") % {"reason": error})
    for row in rows:
        row.account_id = account_id
    return Verdict(200, "OK", rows)


RETRIES = 4  # of a batch the database refused (locked, connection lost): 0.05, 0.1, 0.2, 0.4 s apart
MAX_BATCH = 1000  # events in one transaction


def save_with_retries(rows: list[LineRawEvent], retries: int = RETRIES, pause: float = 0.05) -> None:
    for attempt in range(retries + 1):
        try:
            ingest.save_events(rows)
            return
        except (OperationalError, InterfaceError):
            if attempt == retries:
                raise
            log.warning("line: storing %d events failed (attempt %d), retrying", len(rows), attempt + 1, exc_info=True)
            with contextlib.suppress(Exception):
                connections["default"].close()
            time.sleep(pause * 2**attempt)


class EventWriter:
    """One thread storing what the requests hand in, a batch per transaction, in arrival order."""

    def __init__(self, max_batch: int = MAX_BATCH) -> None:
        self.max_batch = max_batch
        self.items: queue.SimpleQueue[tuple[list[LineRawEvent], Future[None]]] = queue.SimpleQueue()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()
        self.batches = 0
        # Set while nothing is queued and the thread holds no database connection.
        self.idle = threading.Event()
        self.idle.set()

    def submit(self, rows: list[LineRawEvent]) -> Future[None]:
        done: Future[None] = Future()
        self.idle.clear()
        self.items.put((rows, done))
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="line-webhook-writer", daemon=True)
                self.thread.start()
        return done

    def _run(self) -> None:
        while True:
            batch = [self.items.get()]
            count = len(batch[0][0])
            while count < self.max_batch:
                try:
                    batch.append(self.items.get_nowait())
                except queue.Empty:
                    break
                count += len(batch[-1][0])
            self._store(batch)
            if self.items.empty():
                connections.close_all()  # Django under ASGI keeps no connection: give it back
                if self.items.empty():
                    self.idle.set()

    def _store(self, batch: list[tuple[list[LineRawEvent], Future[None]]]) -> None:
        try:
            save_with_retries([row for rows, _done in batch for row in rows])
        except Exception as error:  # noqa: BLE001 - each request answers 503; LINE delivers again
            log.exception("line: could not store a batch of %d webhook requests", len(batch))
            outcome: Exception | None = error
            with contextlib.suppress(Exception):
                connections["default"].close()
        else:
            self.batches += 1
            outcome = None
        for _rows, done in batch:
            # A request that stopped waiting (it answered 503) has cancelled its future.
            with contextlib.suppress(InvalidStateError):
                if outcome is None:
                    done.set_result(None)
                else:
                    done.set_exception(outcome)


_WRITER: EventWriter | None = None
_WRITER_LOCK = threading.Lock()


def writer() -> EventWriter:
    """This process's writer."""
    global _WRITER
    with _WRITER_LOCK:
        if _WRITER is None:
            _WRITER = EventWriter()
        return _WRITER
