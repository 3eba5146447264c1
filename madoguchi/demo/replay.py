"""Play a demo case's past into the SLA clocks of the metrics app, at the moments the story
says, so the dashboard and the inbox timers have a history to show. (The live signal
receivers are muted while the demo loads; they would stamp everything with the present
and invite every resolved customer to a survey by mail.)"""

from __future__ import annotations

import datetime as dt

from madoguchi.cases.models import Case, Interaction, InteractionKind, Status

try:
    from madoguchi.metrics import rollup, sla
except ImportError:  # pragma: no cover - the desk without its metrics app
    rollup = sla = None  # type: ignore[assignment]


def replay(case: Case, entries: list[Interaction], first_status: str, changes: list[tuple[str, dt.datetime]]) -> None:
    """`changes`: the status moves after creation, each with its moment."""
    if sla is None:
        return
    final = case.status
    case.status = first_status  # the clocks start from the case as it was received
    sla.sla_for(case)
    events: list[tuple[dt.datetime, int, object]] = [(e.occurred_at, 0, e) for e in entries]
    events += [(at, 1, status) for status, at in changes]
    replied = waiting = False  # only the messages that move a clock are played (they cost queries)
    for at, _order, event in sorted(events, key=lambda item: (item[0], item[1])):
        if isinstance(event, Interaction):
            if event.kind == InteractionKind.OUTBOUND and (waiting or not replied):
                sla.on_reply(case, at)
                replied, waiting = True, False
            elif event.kind == InteractionKind.INBOUND and replied and not waiting and at > case.received_at:
                sla.on_customer_message(case, at)
                waiting = True
        else:
            sla.on_status(case, case.status, str(event), at)
            case.status = str(event)
    case.status = final
    rollup.mark_dirty(case.received_at)


def status_moves(first: str, final: str, resolved_at: dt.datetime | None, last: dt.datetime) -> list[tuple[str, dt.datetime]]:
    if final == first:
        return []
    if final == Status.CLOSED and resolved_at is not None:
        return [(Status.RESOLVED, resolved_at), (Status.CLOSED, last)]
    return [(final, resolved_at or last)]


def finish() -> None:
    """Rebuild the dashboard's daily figures for every day the demo touched."""
    if rollup is not None:
        rollup.refresh_dirty()
