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
import time
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
    handler error after all were tried. Rows of one kind go to their handler together, at most
    MAX_ITEMS items a call; a call that fails is tried again row by row, so one bad row backs
    off alone and does not hold back the others."""
    done, errors = _complete(pks, now or timezone.now())
    if errors:
        raise errors[0]
    return done


def _complete(pks: list[int], now: dt.datetime) -> tuple[int, list[Exception]]:
    from madoguchi.jobs.models import PendingWork

    token = uuid.uuid4().hex
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    PendingWork.objects.filter(free, pk__in=pks).update(claim=token, claimed_until=now + claim())
    by_key: dict[str, list[Any]] = {}
    for row in PendingWork.objects.filter(claim=token).order_by("pk"):
        by_key.setdefault(row.key, []).append(row)
    done, errors = 0, []
    for key, rows in by_key.items():
        for group in _groups(rows):
            error = _run(key, group, token)
            if error is None:
                done += len(group)
                continue
            if len(group) == 1:
                errors.append(error)
                continue
            for row in group:  # find the row to blame; the others are done
                row_error = _run(key, [row], token)
                if row_error is None:
                    done += 1
                else:
                    errors.append(row_error)
    return done, errors


# Items one handler call gets at most (a batch row holds up to ~300): bounded statements and
# transactions, whatever the backlog.
MAX_ITEMS = 1000


def _groups(rows: list[Any]) -> list[list[Any]]:
    groups: list[list[Any]] = [[]]
    size = 0
    for row in rows:
        if groups[-1] and size + len(row.items) > MAX_ITEMS:
            groups.append([])
            size = 0
        groups[-1].append(row)
        size += len(row.items)
    return groups


def _run(key: str, rows: list[Any], token: str) -> Exception | None:
    """One handler call for these rows (held under `token`): deleted when it succeeds, kept with
    the error and backed off when it fails."""
    from madoguchi.jobs.models import PendingWork

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
        if len(rows) == 1:
            row = rows[0]
            PendingWork.objects.filter(pk=row.pk, claim=token).update(
                attempts=F("attempts") + 1, last_error=f"{type(error).__name__}: {error}"[:2000],
                claim="", claimed_until=timezone.now() + backoff(row.attempts + 1),
            )
        return error
    PendingWork.objects.filter(pk__in=ids, claim=token).delete()
    return None


def backoff(attempts: int) -> dt.timedelta:
    """30 s after the first failure (a database that was restarting), doubling to 30 minutes."""
    return dt.timedelta(seconds=min(30 * 2 ** min(max(attempts - 1, 0), 10), 1800))


def sweep(limit: int = 200, seconds: float = 40) -> int:
    """Do the work left behind: rows older than grace() that nobody holds, oldest first, in
    rounds of `limit` rows, for at most about `seconds` (the next minute's sweep goes on). A
    failing row does not stop the others (it backs off)."""
    from madoguchi.jobs.models import PendingWork

    done = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        now = timezone.now()
        free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
        pks = list(PendingWork.objects.filter(free, created_at__lt=now - grace()).order_by("pk").values_list("pk", flat=True)[:limit])
        if not pks:
            break
        done += _complete(pks, now)[0]  # failed rows are logged and back off
        if len(pks) < limit:
            break
    return done


class _Encoder(DjangoJSONEncoder):
    """Datetimes with their microseconds (DjangoJSONEncoder keeps milliseconds only)."""

    def default(self, o: Any) -> Any:
        if isinstance(o, dt.datetime):
            return o.isoformat()
        return super().default(o)


def _dump(items: list[Any]) -> Any:
    import json

    return json.loads(json.dumps(items, cls=_Encoder))


def _load(items: list[Any]) -> list[Hashable]:
    """JSON gives lists where tuples were deferred: tuples again, so items stay hashable."""
    return [tuple(item) if isinstance(item, list) else item for item in items]
