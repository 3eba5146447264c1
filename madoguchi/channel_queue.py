"""What the conversation channels (LINE, X) share in moving messages: filing what was stored
raw one item at a time, and sending replies kept as one row per reply (`state`, `attempts`,
`next_attempt_at`), each claimed by one worker under a lease, retried by a task scheduled after
its wait and swept each minute for a task lost with a stopped worker."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import F, Model, Q

log = logging.getLogger(__name__)
WAITING = ("pending", "sending")


def file_each(model: type[Model], pks: Iterable[int], file_one: Callable[[int], bool], what: str) -> int:
    """File each stored item (`file_one(pk)`, its own transaction); one that fails keeps its
    error on its row and does not stop the others. The first error is raised at the end, so the
    deferred work that asked backs off and tries again."""
    filed, errors = 0, []
    for pk in pks:
        try:
            filed += file_one(pk)
        except Exception as error:  # noqa: BLE001 - kept on the row, retried by the deferred work
            model._default_manager.filter(pk=pk).update(error=f"{type(error).__name__}: {error}"[:2000])
            log.warning("%s: item %s not filed yet: %s", what, pk, error)
            errors.append(error)
    if errors:
        raise errors[0]
    return filed


def enqueue(task: Any, pk: int, delay: dt.timedelta | None = None) -> None:
    """Send the row now, or after `delay`; a queue that cannot take it leaves it to the sweep."""
    try:
        if delay:
            task.schedule((pk,), delay=max(1, int(delay.total_seconds())))
        else:
            task(pk)
    except Exception:  # noqa: BLE001 - the minute sweep sends it instead
        log.exception("could not queue outbound %s", pk)


def claim(model: type[Model], pk: int, now: dt.datetime, lease: dt.timedelta) -> Any:
    """Mark the row `sending` (one conditional UPDATE: of two workers exactly one wins); the row,
    or None when it is not due or another worker has it."""
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    manager = model._default_manager
    taken = manager.filter(due, pk=pk, state__in=WAITING).update(
        state="sending", attempts=F("attempts") + 1, next_attempt_at=now + lease)
    return manager.filter(pk=pk).first() if taken else None


def send_due(model: type[Model], send: Callable[..., Any], now: dt.datetime, batch: int = 100) -> int:
    """Retries whose wait is over, and `sending` rows whose worker died (their lease ran out)."""
    due = (model._default_manager.filter(state__in=WAITING).exclude(next_attempt_at__gt=now)
           .order_by("pk").values_list("pk", flat=True)[:batch])
    sent = 0
    for pk in list(due):
        row = send(pk, now=now)
        sent += bool(row and row.state == "sent")
    return sent
