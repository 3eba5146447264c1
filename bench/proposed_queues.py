"""The query change this benchmark still proposes for madoguchi/cases/queues.py, for measuring only.

(Its two other proposals, a bounded keyset range and the promises badge counted on the
commitment index, are in queues.py since e2b3200.)

`desk_bench.py --proposed` swaps it into the queues module inside the benchmark process,
so the figures "with the proposed change" come from the same data and the same pages. The
code in madoguchi/cases is not touched; its owner applies the change there.
"""

from __future__ import annotations

from django.db.models import BooleanField, QuerySet
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


queues_original_queryset = queues.queue_queryset


def install() -> None:
    queues.queue_queryset = queue_queryset
