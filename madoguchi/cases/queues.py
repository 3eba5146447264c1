"""The inbox queues and their keyset pagination.

A page is fetched with `WHERE (received_at, id) < cursor ORDER BY received_at DESC, id DESC
LIMIT n` on an index made for that queue (see Case.Meta.indexes), so page 1 and page 50,000
cost the same: no OFFSET, no COUNT over the whole table.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import CharField, Exists, Lookup, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from madoguchi import badges
from madoguchi.accounts.models import User
from madoguchi.cases.models import (
    ACTIVE_STATUSES,
    Case,
    Channel,
    Commitment,
    CommitmentState,
    Compensation,
    CompensationState,
    Priority,
    Status,
)
from madoguchi.ids import parse_id

PAGE_SIZE = 50
# The columns an inbox row shows: long texts (complaint, solution) stay on disk.
LIST_FIELDS = (
    "id", "subject", "channel", "priority", "status", "received_at", "resolved_at", "category_id", "assignee_id",
    "team_id", "customer_id", "customer__name", "assignee__display_name", "assignee__username",
    "assignee__first_name", "assignee__last_name", "category__name", "unread_by_assignee", "updated_at",
    "version",  # for the row's 「自分が担当」 (optimistic lock)
)
COUNT_CAP = badges.CAP  # queue badges count up to this, then say "1000+"


@dataclass(frozen=True)
class Queue:
    code: str
    title: Promise


QUEUES = [
    Queue("mine", _("自分の案件")),
    Queue("unassigned", _("未割り当て")),
    Queue("team", _("チームの案件")),
    Queue("promises", _("約束の期限（今日・超過）")),
    Queue("waiting_dept", _("他部署の回答待ち")),
    Queue("resolved", _("最近解決した案件")),
    Queue("all", _("すべての案件")),
]
QUEUE_CODES = {queue.code for queue in QUEUES}

SORTS = {
    "newest": (("-received_at", "-id"), _("受付の新しい順")),
    "oldest": (("received_at", "id"), _("受付の古い順")),
}


class LiteralIn(Lookup):  # type: ignore[type-arg]
    """`column IN ('new', 'open', …)` with the values written into the SQL, for code constants
    only (checked: lowercase words). SQLite uses a partial index only when the query repeats its
    WHERE term with constants, and Django binds `status IN (%s, …)` as parameters, which never
    matches. Unlike a RawSQL predicate, the column is compiled with its query's alias, so this
    also works in subqueries (`U0."status"`)."""

    lookup_name = "literal_in"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[str | int, ...]]:
        lhs, params = self.process_lhs(compiler, connection)
        values = [str(value) for value in self.rhs]
        if not values or not all(re.fullmatch(r"[a-z_]+", value) for value in values):
            raise ValueError(f"literal_in takes code constants only, not {values!r}")
        return f"{lhs} IN ({', '.join(repr(value) for value in values)})", tuple(params)


CharField.register_lookup(LiteralIn)

# The predicate of the partial indexes case_active_assignee / case_active_team / case_unassigned.
ACTIVE_LITERAL = Q(status__literal_in=tuple(ACTIVE_STATUSES))


def end_of_today(now: dt.datetime | None = None) -> dt.datetime:
    local = timezone.localtime(now or timezone.now())
    return local.replace(hour=23, minute=59, second=59, microsecond=999999)


def _due_commitments(now: dt.datetime | None = None) -> QuerySet[Commitment]:
    return Commitment.objects.filter(state=CommitmentState.OPEN, due_at__lte=end_of_today(now))


def queue_queryset(code: str, user: User) -> QuerySet[Case]:
    cases = Case.objects.all()
    if code == "mine":
        return cases.filter(ACTIVE_LITERAL, assignee=user)
    if code == "unassigned":
        return cases.filter(ACTIVE_LITERAL, assignee__isnull=True)
    if code == "team":
        if user.team_id is None:
            return cases.none()
        return cases.filter(ACTIVE_LITERAL, team_id=user.team_id)
    if code == "promises":
        return cases.filter(Exists(_due_commitments().filter(case=OuterRef("pk"))))
    if code == "waiting_dept":
        return cases.filter(status=Status.WAITING_DEPT)
    if code == "resolved":
        return cases.filter(status=Status.RESOLVED)
    return cases


FILTER_KEYS = ("status", "category", "priority", "channel", "assignee")


def clean_filters(raw: dict[str, str]) -> dict[str, str]:
    """Keep only well-formed filter values: a hand-edited URL filters less, never fails."""
    allowed = {
        "status": set(Status.values),
        "channel": set(Channel.values),
        "priority": {str(value) for value in Priority.values},
    }
    cleaned = {}
    for key in FILTER_KEYS:
        value = (raw.get(key) or "").strip()
        if key in allowed:
            ok = value in allowed[key]
        else:
            number = parse_id(value)  # ASCII or full-width digits only ("²" would fail in int())
            ok, value = number is not None, str(number or "")
        cleaned[key] = value if ok else ""
    return cleaned


def apply_filters(cases: QuerySet[Any], filters: dict[str, Any], prefix: str = "") -> QuerySet[Any]:
    lookups = {
        "status": "status",
        "category": "category_id",
        "priority": "priority",
        "channel": "channel",
        "assignee": "assignee_id",
    }
    for key, field in lookups.items():
        value = filters.get(key)
        if value not in (None, ""):
            cases = cases.filter(**{prefix + field: value})
    # Tags and the shop's own fields (issue 22 item 3): only the inbox's filters carry them.
    from madoguchi.cases.labels import apply_label_filters

    return apply_label_filters(cases, filters, prefix)


@dataclass
class Page:
    cases: list[Case]
    next_cursor: str | None
    due_by_case: dict[int, dt.datetime]


def encode_cursor(row: Any, sort_field: str) -> str:
    return f"{getattr(row, sort_field).isoformat()}|{row.pk}"


def decode_cursor(cursor: str) -> tuple[dt.datetime, int] | None:
    try:
        stamp, pk = cursor.rsplit("|", 1)
        moment = parse_datetime(stamp)
        if moment is not None and timezone.is_naive(moment):  # hand-typed: read it as the desk's time
            moment = timezone.make_aware(moment)
        return (moment, int(pk)) if moment else None
    except (ValueError, TypeError):
        return None  # a hand-edited cursor restarts at the first page rather than failing


def keyset(rows: QuerySet[Any], field: str, descending: bool, cursor: str) -> QuerySet[Any]:
    """The rows after `cursor` (from `encode_cursor`) in the order (field, id), descending or not."""
    return _keyset(rows, field, descending, cursor)


def _keyset(rows: QuerySet[Any], field: str, descending: bool, cursor: str) -> QuerySet[Any]:
    position = decode_cursor(cursor) if cursor else None
    if position is None:
        return rows
    moment, pk = position
    op = "lt" if descending else "gt"
    # The first bound is implied by the second, but without it the OR gives the planner no
    # index range and it walks the index from the top down to the cursor.
    return rows.filter(
        Q(**{f"{field}__{op}e": moment}),
        Q(**{f"{field}__{op}": moment}) | Q(**{field: moment, f"pk__{op}": pk}),
    )


def promises_page(user: User, filters: dict[str, Any], cursor: str = "") -> Page:
    """Promises due today or overdue, earliest first: walks the open-commitment index."""
    commitments = apply_filters(_due_commitments(), filters, prefix="case__")
    commitments = _keyset(commitments, "due_at", False, cursor)
    rows = list(
        commitments.select_related("case__customer", "case__assignee", "case__category")
        .only("id", "due_at", "case_id", *(f"case__{name}" for name in LIST_FIELDS))
        .order_by("due_at", "id")[: PAGE_SIZE + 1]
    )
    next_cursor = encode_cursor(rows[PAGE_SIZE - 1], "due_at") if len(rows) > PAGE_SIZE else None
    rows = rows[:PAGE_SIZE]
    # A case with several promises due is listed once, at its earliest (rows are by due date;
    # a later page may list it again for a promise further on).
    earliest: dict[int, Commitment] = {}
    for commitment in rows:
        earliest.setdefault(commitment.case_id, commitment)
    return Page([c.case for c in earliest.values()], next_cursor, {pk: c.due_at for pk, c in earliest.items()})


def page_of(code: str, user: User, filters: dict[str, Any], sort: str = "newest", cursor: str = "") -> Page:
    """One page of a queue: one query for the rows, one for their next promise due dates."""
    if code == "promises":
        return promises_page(user, filters, cursor)
    sort_field = "resolved_at" if code == "resolved" else "received_at"
    descending = sort != "oldest"
    order = (f"-{sort_field}", "-id") if descending else (sort_field, "id")
    cases = _keyset(apply_filters(queue_queryset(code, user), filters), sort_field, descending, cursor)
    rows = list(
        cases.select_related("customer", "assignee", "category").only(*LIST_FIELDS).order_by(*order)[: PAGE_SIZE + 1]
    )
    next_cursor = encode_cursor(rows[PAGE_SIZE - 1], sort_field) if len(rows) > PAGE_SIZE else None
    rows = rows[:PAGE_SIZE]
    due: dict[int, dt.datetime] = {}
    if rows:
        for case_id, due_at in (
            Commitment.objects.filter(case_id__in=[c.pk for c in rows], state=CommitmentState.OPEN)
            .order_by("due_at")
            .values_list("case_id", "due_at")
        ):
            due.setdefault(case_id, due_at)
    return Page(rows, next_cursor, due)


def sees_approvals(user: User) -> bool:
    """The approvals page is for leads and admins."""
    return user.is_lead or user.is_admin


def approvals_for(user: User) -> QuerySet[Compensation]:
    """Compensation requests waiting for this user: a lead sees their team's, an admin all
    (a case of no team is decided by the admins only); nobody else any."""
    if not sees_approvals(user):
        return Compensation.objects.none()
    pending = Compensation.objects.filter(state=CompensationState.PENDING)
    if not user.is_admin:
        pending = pending.filter(case__team__lead=user)
    return pending


def queue_counts(user: User, also: Mapping[str, QuerySet[Any]] | None = None) -> dict[str, str]:
    """Badge per queue ("" when empty, "1000+" at the cap), all in one statement (badges.py),
    with the counts of `also` (other badges on the same page) in that statement too."""
    rows: dict[str, QuerySet[Any]] = dict(also or {})
    for queue in QUEUES:
        if queue.code in ("all", "resolved"):
            continue
        # Promises count the due commitments on their own partial index, the rows the promises
        # page lists, rather than probing commitments case by case.
        rows[queue.code] = _due_commitments() if queue.code == "promises" else queue_queryset(queue.code, user)
    return {code: badges.label(count, COUNT_CAP) for code, count in badges.capped_counts(rows, COUNT_CAP).items()}
