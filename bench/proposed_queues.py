"""The three query changes this benchmark proposes for madoguchi/cases/queues.py, for measuring only.

`desk_bench.py --proposed` swaps these into the queues module inside the benchmark process,
so the figures "with the proposed change" come from the same data and the same pages. The
code in madoguchi/cases is not touched; its owner applies the change there.
"""

from __future__ import annotations

from typing import Any

from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL

from madoguchi.accounts.models import User
from madoguchi.cases import queues
from madoguchi.cases.models import ACTIVE_STATUSES, Case

# The predicate of the partial indexes case_active_assignee / case_active_team / case_unassigned,
# written out literally: SQLite matches a partial index only when the query repeats its WHERE
# term, and Django sends `status IN (%s, %s, %s, %s)` with bound parameters, which never
# matches, so those queues fell back to the foreign-key index plus a sort. PostgreSQL (psycopg
# binds on the client) already sees literals. The values are code constants, not user input.
ACTIVE_LITERAL = RawSQL(
    f'"{Case._meta.db_table}"."status" IN ({", ".join(repr(str(s)) for s in ACTIVE_STATUSES)})', [],
    output_field=BooleanField(),
)


def queue_queryset(code: str, user: User) -> QuerySet[Case]:
    """As queues.queue_queryset, with the active-status test as ACTIVE_LITERAL."""
    cases = Case.objects.all()
    if code == "mine":
        return cases.filter(ACTIVE_LITERAL, assignee=user)
    if code == "unassigned":
        return cases.filter(ACTIVE_LITERAL, assignee__isnull=True)
    if code == "team":
        return cases.filter(ACTIVE_LITERAL, team_id=user.team_id) if user.team_id else cases.none()
    return queues_original_queryset(code, user)


def keyset(rows: QuerySet[Any], field: str, descending: bool, cursor: str) -> QuerySet[Any]:
    """As queues._keyset, plus `field <= moment` (or >=): the OR alone gives PostgreSQL no index
    range, so it walks the index from the first row to the cursor; the redundant bound starts
    the scan at the cursor."""
    position = queues.decode_cursor(cursor) if cursor else None
    if position is None:
        return rows
    moment, pk = position
    op = "lt" if descending else "gt"
    return rows.filter(
        Q(**{f"{field}__{op}e": moment}),
        Q(**{f"{field}__{op}": moment}) | Q(**{field: moment, f"pk__{op}": pk}),
    )


def queue_counts(user: User) -> dict[str, str]:
    """As queues.queue_counts, but the promises badge counts due commitments on their own
    partial index (commitment_open_due), the rows the promises page lists, instead of
    `cases WHERE EXISTS(commitment …)`, which probes commitments case by case."""
    counts = {}
    for queue in queues.QUEUES:
        if queue.code in ("all", "resolved"):
            continue
        rows = queues._due_commitments() if queue.code == "promises" else queue_queryset(queue.code, user)
        n = rows[: queues.COUNT_CAP].count()
        counts[queue.code] = f"{queues.COUNT_CAP}+" if n >= queues.COUNT_CAP else str(n)
    return counts


queues_original_queryset = queues.queue_queryset


def install() -> None:
    queues.queue_queryset = queue_queryset
    queues._keyset = keyset
    queues.queue_counts = queue_counts
