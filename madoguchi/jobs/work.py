"""Work a write leaves for later, recorded with the write and done until done.

A receiver that must make something happen after a write (index the new message, answer a
mail after hours, start a batch's SLA clocks) calls `defer(key, items)` inside the writing
transaction. That inserts a `PendingWork` row in the same transaction, so the work exists
exactly when its cause does: a write that rolls back leaves none, a write that commits cannot
lose it. After the commit the row is handed to the worker (`tasks.complete_work_task`); the
row is deleted when its handler has run. A worker killed in between, a queue that lost the
task, a database that went away mid-run: the row is still there and the minute sweep
(`tasks.sweep_work_job`) runs it again. So handlers must be idempotent (each checks what is
already done: a document is rewritten, a clock or an answer is created only if missing).

Batch writers (the mail worker files 100 mails in a transaction, the chat writer) say so with
`after_commit.batch()`: their items are kept in memory and written as one row per key when the
batch ends, still inside the transaction, instead of one row per message."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import F, Q
from django.utils import timezone

from madoguchi import after_commit

log = logging.getLogger(__name__)

Handler = Callable[[list[Any]], object]
HANDLERS: dict[str, Handler] = {}


def claim() -> dt.timedelta:
    """A claimed row still there after this long was taken by a worker that died. Handlers
    are idempotent, so a slow run that outlives its claim costs a second run, not a wrong result."""
    return dt.timedelta(seconds=settings.JOBS_WORK_CLAIM_SECONDS)


def grace() -> dt.timedelta:
    """The sweep leaves rows younger than this to the task their own commit queued."""
    return dt.timedelta(seconds=settings.JOBS_WORK_GRACE_SECONDS)


_BUFFER = "_madoguchi_deferred_work"


def handler(key: str) -> Callable[[Handler], Handler]:
    """Register the function that does the work deferred under `key`; it gets the items
    (each as it was given, tuples kept) of one or more rows, without duplicates."""

    def register(fn: Handler) -> Handler:
        HANDLERS[key] = fn
        return fn

    return register


def defer(key: str, items: Iterable[Hashable], using: str = DEFAULT_DB_ALIAS) -> None:
    items = list(items)
    if not items:
        return
    if after_commit.in_batch(using):
        buffer = transaction.get_connection(using).__dict__.setdefault(_BUFFER, {})
        buffer.setdefault(key, {}).update(dict.fromkeys(items))
        return
    from madoguchi.jobs.models import PendingWork

    row = PendingWork.objects.using(using).create(key=key, items=_dump(items))
    after_commit.collect("jobs.work", [row.pk], enqueue, using=using)


def write_batch(using: str) -> None:
    """Called by after_commit when the outermost batch ends normally (inside its transaction)."""
    buffer = transaction.get_connection(using).__dict__.pop(_BUFFER, None)
    if not buffer:
        return
    from madoguchi.jobs.models import PendingWork

    rows = PendingWork.objects.using(using).bulk_create(
        [PendingWork(key=key, items=_dump(list(items))) for key, items in buffer.items()]
    )
    after_commit.collect("jobs.work", [row.pk for row in rows], enqueue, using=using)


def discard_batch(using: str) -> None:
    """The batch failed: its transaction rolls back, and so does the work it would have left."""
    transaction.get_connection(using).__dict__.pop(_BUFFER, None)


def enqueue(pks: list[int]) -> None:
    from madoguchi.jobs.tasks import complete_work_task

    try:
        complete_work_task(pks)
    except Exception:  # noqa: BLE001 - the queue's own error, whatever its backend
        # The rows are committed: the sweep will do them if this does not.
        log.exception("jobs: could not queue %d pending works; doing them now", len(pks))
        try:
            complete(pks)
        except Exception:  # noqa: BLE001
            log.exception("jobs: pending works %s left to the sweep", pks)


def complete(pks: list[int], now: dt.datetime | None = None) -> int:
    """Run the handlers of these rows (those no other worker holds), delete the rows whose
    handler succeeded, back off the others. Returns how many rows were done; raises the first
    handler error after all keys were tried (so the Huey task is retried)."""
    from madoguchi.jobs.models import PendingWork

    now = now or timezone.now()
    token = uuid.uuid4().hex
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    PendingWork.objects.filter(free, pk__in=pks).update(claim=token, claimed_until=now + claim())
    by_key: dict[str, list[Any]] = {}
    for row in PendingWork.objects.filter(claim=token).order_by("pk"):
        by_key.setdefault(row.key, []).append(row)
    done, errors = 0, []
    for key, rows in by_key.items():
        ids = [row.pk for row in rows]
        try:
            fn = HANDLERS.get(key)
            if fn is None:
                raise LookupError(f"no handler for deferred work {key!r}")
            items: dict[Any, None] = {}
            for row in rows:
                items.update(dict.fromkeys(_load(row.items)))
            fn(list(items))
        except Exception as error:  # noqa: BLE001 - kept with the error, tried again later
            log.exception("jobs: deferred work %s failed (%d rows)", key, len(ids))
            errors.append(error)
            attempts = max(row.attempts for row in rows) + 1
            PendingWork.objects.filter(pk__in=ids).update(
                attempts=F("attempts") + 1, last_error=f"{type(error).__name__}: {error}"[:2000],
                claim="", claimed_until=timezone.now() + backoff(attempts),
            )
        else:
            PendingWork.objects.filter(pk__in=ids).delete()
            done += len(ids)
    if errors:
        raise errors[0]
    return done


def backoff(attempts: int) -> dt.timedelta:
    """30 s after the first failure (a database that was restarting), doubling to 30 minutes."""
    return dt.timedelta(seconds=min(30 * 2 ** min(max(attempts - 1, 0), 10), 1800))


def sweep(now: dt.datetime | None = None, limit: int = 500, rounds: int = 20) -> int:
    """Do the work left behind: rows older than grace() that nobody holds, oldest first, in
    rounds of `limit` rows. A failing key does not stop the others (its rows back off)."""
    from madoguchi.jobs.models import PendingWork

    done = 0
    for _ in range(rounds):
        now = timezone.now() if now is None else now
        free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
        pks = list(PendingWork.objects.filter(free, created_at__lt=now - grace()).order_by("pk").values_list("pk", flat=True)[:limit])
        if not pks:
            break
        try:
            done += complete(pks, now)
        except Exception:  # noqa: BLE001 - logged in complete; the failed rows back off
            pass
        if len(pks) < limit:
            break
    return done


def _dump(items: list[Any]) -> Any:
    import json

    return json.loads(json.dumps(items, cls=DjangoJSONEncoder))


def _load(items: list[Any]) -> list[Hashable]:
    """JSON gives lists where tuples were deferred: tuples again, so items stay hashable."""
    return [tuple(item) if isinstance(item, list) else item for item in items]
