"""Work collected during a transaction and handed to the worker once, after the commit.

`collect(key, items, flush)` remembers `items` on the current database connection and asks
for `flush(all items collected under key)` after the commit: a transaction that files 100
mails enqueues one indexing task, not 300. One on_commit callback is registered per call
(Django drops those registered inside a rolled-back savepoint); the first one to run takes
everything collected, the others find nothing. Items added inside a rolled-back savepoint
are still handed over: every flush re-reads the rows, so a row that was never committed is
simply not found.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import DEFAULT_DB_ALIAS, transaction

_ATTRIBUTE = "_madoguchi_after_commit"


def _pending(using: str) -> dict[str, dict[Hashable, None]]:
    connection = transaction.get_connection(using)
    pending = connection.__dict__.get(_ATTRIBUTE)
    if pending is None:
        pending = connection.__dict__[_ATTRIBUTE] = {}
    return pending


def collect(key: str, items: Iterable[Hashable], flush: Callable[[list[Any]], None], using: str = DEFAULT_DB_ALIAS) -> None:
    pending = _pending(using)
    pending.setdefault(key, {}).update(dict.fromkeys(items))

    def run() -> None:
        taken = pending.pop(key, None)
        if taken:
            flush(list(taken))

    transaction.on_commit(run, using=using)


_SEEN = "_madoguchi_seen_in_transaction"


def first_in_transaction(key: Hashable, using: str = DEFAULT_DB_ALIAS) -> bool:
    """True the first time `key` is seen in the current transaction: for work whose effect
    a transaction needs only once (marking a day dirty for 100 mails of one day). Outside a
    transaction always True. Savepoint-safe: a probe callback is registered with on_commit,
    and Django drops the callbacks of a rolled-back savepoint, so when the savepoint that did
    the work was rolled back the probe is gone and the key counts as unseen again."""
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        return True
    seen = connection.__dict__.get(_SEEN)
    if seen is None:
        seen = connection.__dict__[_SEEN] = {}
    probe = seen.get(key)
    # run_on_commit holds (savepoint ids, callback, robust) for the transaction in progress.
    if probe is not None and any(entry[1] is probe for entry in connection.run_on_commit):
        return False

    def forget() -> None:
        seen.pop(key, None)

    seen[key] = forget
    transaction.on_commit(forget, using=using)
    return True


def forget_in_transaction(key: Hashable, using: str = DEFAULT_DB_ALIAS) -> None:
    """The next first_in_transaction(key) of this transaction is True again (the work it
    guards has to be done once more: something it depends on changed)."""
    seen = transaction.get_connection(using).__dict__.get(_SEEN)
    if seen is not None:
        seen.pop(key, None)


_BATCH = "_madoguchi_batch_depth"


@contextmanager
def batch(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Code that files many records in one transaction (the mail worker) says so; receivers
    may then hand per-record work that need not be in the transaction to the worker (see
    metrics.receivers: SLA clocks of cases opened by mail). Single writes from the web
    (and the tests of each app) keep their receivers' work in the transaction. Work deferred
    with `jobs.work.defer` during the batch is written as one row per kind when the outermost
    batch ends normally (it must end inside its transaction)."""
    from madoguchi.jobs import work  # the work its receivers deferred is written at the end

    connection = transaction.get_connection(using)
    connection.__dict__[_BATCH] = connection.__dict__.get(_BATCH, 0) + 1
    try:
        yield
    except BaseException:
        if connection.__dict__[_BATCH] == 1:
            work.discard_batch(using)
        raise
    else:
        if connection.__dict__[_BATCH] == 1:
            work.write_batch(using)
    finally:
        connection.__dict__[_BATCH] -= 1


def in_batch(using: str = DEFAULT_DB_ALIAS) -> bool:
    return bool(transaction.get_connection(using).__dict__.get(_BATCH))
