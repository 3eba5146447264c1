"""Write-behind storage of visitors' chat messages: relaying never waits for the database.

A widget socket relays a visitor's message to the agents at once and hands it to this
process's `Writer`, which gathers what all sockets sent for a few tens of milliseconds (or up
to `max_batch` messages) and stores the lot in ONE transaction, in a thread of its own:

- the `ChatMessage` rows in one bulk insert, then the case `Interaction` rows in one bulk
  insert, and `interaction_added` sent once per interaction, inside the transaction, exactly as
  `cases.services.do_add_interaction` sends it (receivers see the interaction with its case);
- a message whose case would change status (the customer writes again on a resolved case) and
  the first message of a new chat (customer, case, session) take the ordinary one-by-one path
  (`do_add_interaction`, `services.do_customer_message`), in order with the rest.

The visitor's ack is sent only after the commit: a crash before the flush means no ack, and
the widget resends with the same client id. A message is stored once per (session, client
id) however often it arrives (checked in bulk before the insert, and by the unique constraint),
so a retry after a database error, a resend racing the original, or the same batch stored
again at shutdown never repeats a message. Order is kept: a batch is stored in the order the
messages arrived and batches one after another.

Errors: an operational database error (locked, connection lost) retries the whole batch after
a short pause; any other error stores the batch's messages one by one (each in its own
transaction), so one bad message cannot hold up the others. What still fails is not acked.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import copy
import logging
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, cast

from django.db import DatabaseError, InterfaceError, OperationalError, connections, transaction

from madoguchi import after_commit
from madoguchi.cases import signals
from madoguchi.cases.models import Case, Channel, Interaction, InteractionKind, Status
from madoguchi.cases.services import follow_merges
from madoguchi.chat import services
from madoguchi.chat.models import ChatMessage, ChatSession, Sender, SessionState

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.05  # how long the first message of a batch may wait for company
MAX_BATCH = 200
RETRIES = 5  # of a batch after an operational database error (0.1, 0.2, 0.4, 0.8, 1.6 s apart)

# A status a customer's new message takes the case out of (mirrors do_add_interaction).
REOPENS = (Status.WAITING_CUSTOMER, Status.RESOLVED, Status.CLOSED)


class StoreFailed(Exception):
    """The database would not take the message now; it is not acked and the widget resends it."""


@dataclass
class Pending:
    session: ChatSession  # saved, or new (pk None): then this message opens the chat
    client_id: str
    text: str
    future: asyncio.Future[Any] | None = None
    at: float = field(default_factory=time.monotonic)


Result = services.Posted | Exception


# --- the storing itself (sync, in the writer's thread) ------------------------------------------


def store_batch(items: list[Pending]) -> list[Result]:
    """Store `items` in one transaction, in order; one result per item (Posted or the error)."""
    results: list[Result | None] = [None] * len(items)
    # A batch writer (after_commit.batch): the other apps may leave per-message work that need
    # not be in this transaction to the worker (the SLA clocks: metrics.receivers).
    with transaction.atomic(), after_commit.batch():
        saved = [it for it in items if it.session.pk is not None]
        existing = _existing(saved)
        case_ids = {it.session.case_id for it in saved if it.session.case_id}
        cases = Case.objects.in_bulk(case_ids)
        # A chat whose case was merged into another (its session stayed behind because the
        # other case had a chat of its own) goes on in that case.
        cases = {pk: follow_merges(case) for pk, case in cases.items()}
        run: list[int] = []  # indexes of messages waiting for the next bulk insert, in order
        seen: dict[tuple[int, str], int] = {}
        for i, item in enumerate(items):
            session = item.session
            if session.pk is None:
                _bulk(items, run, results, cases)
                results[i] = _one_by_one(item)
                continue
            key = (session.pk, item.client_id)
            if key in existing:
                results[i] = services.Posted(session, existing[key], created=False)
                continue
            if key in seen:
                run_first = seen[key]
                results[i] = ("same", run_first)  # type: ignore[call-overload]  # filled after the insert
                continue
            if session.state == SessionState.ENDED:
                results[i] = services.ChatError("このチャットは終了しています。", "ended")
                continue
            case = cases.get(session.case_id) if session.case_id else None
            if case is None or case.status in REOPENS:
                _bulk(items, run, results, cases)
                if case is not None:
                    session.case = case  # as it is now, so do_add_interaction reopens it
                results[i] = _one_by_one(item)
                if case is not None:
                    case.status = Status.OPEN  # now reopened; the rest of the batch goes in bulk
                continue
            seen[key] = i
            run.append(i)
        _bulk(items, run, results, cases)
    for i, result in enumerate(results):
        if isinstance(result, tuple):  # a second copy of a message in the same batch
            first = results[result[1]]
            assert isinstance(first, services.Posted)
            results[i] = services.Posted(first.session, first.message, created=False)
    return results  # type: ignore[return-value]


def _existing(items: list[Pending]) -> dict[tuple[int, str], ChatMessage]:
    if not items:
        return {}
    wanted = {(it.session.pk, it.client_id) for it in items}
    found = ChatMessage.objects.filter(
        session_id__in={s for s, _c in wanted}, client_id__in={c for _s, c in wanted}
    ).select_related("upload")
    return {(m.session_id, m.client_id): m for m in found if (m.session_id, m.client_id) in wanted}


def _bulk(items: list[Pending], run: list[int], results: list[Any], cases: dict[int, Case]) -> None:
    """Insert the waiting messages and their interactions, then send interaction_added for each."""
    if not run:
        return
    messages = ChatMessage.objects.bulk_create([
        ChatMessage(session_id=items[i].session.pk, client_id=items[i].client_id, sender=Sender.CUSTOMER, text=items[i].text)
        for i in run
    ])
    interactions = Interaction.objects.bulk_create([
        Interaction(case=cases[cast(int, items[i].session.case_id)], kind=InteractionKind.INBOUND, channel=Channel.CHAT, author=None,
                    body=message.text, occurred_at=message.created_at, external_id=message.client_id)
        for i, message in zip(run, messages, strict=True)
    ])
    for i, message, interaction in zip(run, messages, interactions, strict=True):
        message.session = items[i].session
        results[i] = services.Posted(items[i].session, message, created=True)
        signals.interaction_added.send(sender=Interaction, interaction=interaction, actor=None)
        time.sleep(0)  # let the event loop's thread take the GIL between receivers, if it waits
    run.clear()


def _one_by_one(item: Pending) -> Result:
    """The ordinary path (a new chat, a case that reopens), in a savepoint of its own."""
    try:
        with transaction.atomic():
            return services.do_customer_message(item.session, client_id=item.client_id, text=item.text)
    except services.ChatError as error:
        return error


def store_each(items: list[Pending]) -> list[Result]:
    """After a batch failed for a reason other than the database being busy: one at a time."""
    results: list[Result] = []
    for item in items:
        try:
            with transaction.atomic():
                results.append(store_batch([item])[0])
        except Exception as error:  # noqa: BLE001 - this message is not acked; the widget resends it
            log.exception("chat: could not store message %s", item.client_id)
            _reset_connection()
            results.append(StoreFailed(str(error)))
    return results


def _reset_connection() -> None:
    with contextlib.suppress(Exception):
        connections["default"].close()


def store_with_retries(items: list[Pending], store: Callable[[list[Pending]], list[Result]] = store_batch,
                       retries: int = RETRIES, pause: float = 0.1) -> list[Result]:
    for attempt in range(retries + 1):
        new = [(it.session, _snapshot(it.session)) for it in items if it.session.pk is None]
        try:
            return store(items)
        except (OperationalError, InterfaceError):
            log.warning("chat: storing %d messages failed (attempt %d), retrying", len(items), attempt + 1, exc_info=True)
            _forget(new)
            _reset_connection()
            if attempt < retries:
                time.sleep(pause * 2**attempt)
        except DatabaseError:
            log.warning("chat: batch of %d failed, storing one by one", len(items), exc_info=True)
            _forget(new)
            _reset_connection()
            return store_each(items)
    return [StoreFailed("database unavailable") for _ in items]


def _snapshot(session: ChatSession) -> dict[str, Any]:
    before = session.__dict__.copy()
    before["_state"] = copy.copy(session._state)
    before["_state"].fields_cache = dict(session._state.fields_cache)
    return before


def _forget(new: list[tuple[ChatSession, dict[str, Any]]]) -> None:
    """A rolled-back transaction took the new chats' rows with it: make them unsaved again."""
    for session, before in new:
        session.__dict__.clear()
        session.__dict__.update(before)


# --- the per-process writer (async side) -------------------------------------------------------


class Writer:
    """Gathers messages from every socket of this event loop and stores them in batches."""

    def __init__(self, *, flush_seconds: float | None = None, max_batch: int | None = None,
                 store: Callable[[list[Pending]], list[Result]] | None = None) -> None:
        self.flush_seconds = FLUSH_SECONDS if flush_seconds is None else flush_seconds
        self.max_batch = max_batch or MAX_BATCH
        self.store = store or store_batch
        self.items: list[Pending] = []
        self.task: asyncio.Task[None] | None = None
        self.wake = asyncio.Event()
        self.idle_event = asyncio.Event()
        self.idle_event.set()
        # One thread, so batches are stored one after another, in order, on one connection.
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="chat-writer")
        self.batches = 0
        _ALL.add(self)

    def submit(self, session: ChatSession, client_id: str, text: str) -> asyncio.Future[services.Posted]:
        future: asyncio.Future[services.Posted] = asyncio.get_running_loop().create_future()
        self.items.append(Pending(session, client_id, text, future))
        self.idle_event.clear()
        if len(self.items) >= self.max_batch:
            self.wake.set()
        if self.task is None:
            self.task = asyncio.create_task(self._run())
        return future

    async def idle(self) -> None:
        """Wait until everything handed in so far is stored (or has failed)."""
        await self.idle_event.wait()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.items:
                wait = self.items[0].at + self.flush_seconds - time.monotonic()
                if wait > 0 and len(self.items) < self.max_batch:
                    self.wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.wake.wait(), wait)
                    continue
                batch = self.items[: self.max_batch]
                try:
                    results = await loop.run_in_executor(self.executor, self._store_in_thread, batch)
                except Exception as error:  # noqa: BLE001 - never lose the writer task
                    log.exception("chat: writer failed")
                    results = [StoreFailed(str(error)) for _ in batch]
                del self.items[: len(batch)]
                self.batches += 1
                for item, result in zip(batch, results, strict=True):
                    if item.future is None or item.future.done():
                        continue
                    if isinstance(result, Exception):
                        item.future.set_exception(result)
                    else:
                        item.future.set_result(result)
        finally:
            self.task = None
            if not self.items:  # (cancelled with messages in hand: they are stored at exit)
                self.idle_event.set()

    def _store_in_thread(self, batch: list[Pending]) -> list[Result]:
        try:
            results = store_with_retries(batch, self.store)
            for result in results:
                if isinstance(result, services.Posted):
                    result.session_payload = services.session_payload(result.session)
            return results
        finally:
            if len(self.items) <= len(batch):
                # Nothing else waiting: give the connection back (Django under ASGI keeps none).
                connections.close_all()


_ALL: weakref.WeakSet[Writer] = weakref.WeakSet()
_WRITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Writer] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def writer() -> Writer:
    """This event loop's writer (one per server process; tests run several loops)."""
    loop = asyncio.get_running_loop()
    with _LOCK:
        found = _WRITERS.get(loop)
        if found is None:
            found = _WRITERS[loop] = Writer()
        return found


@atexit.register
def store_what_is_left() -> None:
    """At shutdown, store what the writers still hold (nobody is left to ack it; the widget
    resends and the server then acks without storing it twice)."""
    for each in list(_ALL):
        if each.items:
            left = list(each.items)
            each.items.clear()
            try:
                store_with_retries([Pending(p.session, p.client_id, p.text) for p in left], retries=1)
            except Exception:  # noqa: BLE001 - at exit there is nobody to tell but the log
                log.exception("chat: could not store %d messages at shutdown", len(left))
