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

from collections.abc import Callable, Hashable, Iterable
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
