"""What each export holds: who may have it, its rows (one statement, read in chunks) and its
columns. The list pages and the CSV files use the same rows and cells, so what a lead sees on the
page is what the file holds. Nothing here knows HTTP.

Rows are read as plain tuples (`values_list`) with everything they show joined in, newest first
by id (the primary key's index: no sort of the table), and streamed with `.iterator()`: a file
of 1,000,000 cases is one statement and holds one chunk in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from madoguchi.accounts.models import USER_LABEL_FIELDS, User, user_label
from madoguchi.cases import queues
from madoguchi.cases.models import (
    Channel,
    Commitment,
    CommitmentState,
    Compensation,
    CompensationKind,
    CompensationState,
    Priority,
    Status,
)
from madoguchi.customers.models import Customer, Identity, IdentityKind
from madoguchi.customers.phones import phone_display
from madoguchi.exports import forms
from madoguchi.exports.csvfile import stamp

CHUNK = 2000  # rows fetched from the database at a time
PAGE_SIZE = 50


def everyone(user: User) -> bool:
    """Every staff member works every case (the inbox's rule)."""
    return True


def leads_and_admins(user: User) -> bool:
    """Bulk personal data and money: the fans lists' and the approvals page's rule."""
    return user.is_lead or user.is_admin


def _users(relation: str) -> list[str]:
    return [f"{relation}__{field}" for field in USER_LABEL_FIELDS]


def _who(names: Any) -> str:
    return user_label(*(name or "" for name in names)) if any(names) else ""


def _labels(choices: Any) -> dict[Any, str]:
    return {value: str(label) for value, label in choices}


@dataclass(frozen=True)
class Kind:
    code: str
    title: Promise
    stem: str  # the file name's start
    form: type[forms.RangeForm]
    allowed: Callable[[User], bool]
    rows: Callable[[User, Any], QuerySet[Any]]  # values_list rows, id first, newest first
    header: Callable[[], list[str]]
    cells: Callable[[], Callable[[tuple[Any, ...]], list[Any]]]  # labels looked up once per file
    link: tuple[int, str]  # (column, URL prefix) the list page links
    filters: tuple[str, ...]


def _in_period(rows: QuerySet[Any], field: str, form: forms.RangeForm) -> QuerySet[Any]:
    start, end = form.bounds()
    if start:
        rows = rows.filter(**{f"{field}__gte": start})
    if end:
        rows = rows.filter(**{f"{field}__lt": end})
    return rows


# --- cases ---------------------------------------------------------------------------------

def case_rows(user: User, form: Any) -> QuerySet[Any]:
    data = form.cleaned_data
    cases = queues.queue_queryset(data.get("queue") or "all", user)
    cases = queues.apply_filters(cases, {key: data.get(key) or "" for key in queues.FILTER_KEYS})
    cases = _in_period(cases, "received_at", form)
    return cases.order_by("-id").values_list(
        "id", "subject", "status", "priority", "category__name", "channel", "customer_id", "customer__name",
        *_users("assignee"), "team__name", "received_at", "resolved_at", "updated_at", "complaint", "landing_point")


def case_header() -> list[str]:
    return [_("案件番号"), _("件名"), _("状態"), _("優先度"), _("分類"), _("最初の窓口"), _("お客様番号"), _("お客様"),
            _("担当者"), _("チーム"), _("受付日時"), _("解決日時"), _("更新日時"), _("クレームの内容"), _("着地点")]


def case_cells() -> Callable[[tuple[Any, ...]], list[Any]]:
    status, priority, channel = _labels(Status.choices), _labels(Priority.choices), _labels(Channel.choices)
    width = len(USER_LABEL_FIELDS)

    def cells(row: tuple[Any, ...]) -> list[Any]:
        pk, subject, state, level, category, via, customer_id, customer, *rest = row
        names, rest = rest[:width], rest[width:]
        team, received, resolved, updated, complaint, landing = rest
        return [pk, subject, status.get(state, state), priority.get(level, level), category, channel.get(via, via),
                customer_id, customer, _who(names), team or "", stamp(received), stamp(resolved), stamp(updated),
                complaint, landing]

    return cells


# --- customers -----------------------------------------------------------------------------

def _first_identity(kind: str) -> Subquery:
    return Subquery(Identity.objects.filter(customer=OuterRef("pk"), kind=kind).order_by("id").values("value")[:1])


def customer_rows(user: User, form: Any) -> QuerySet[Any]:
    customers = _in_period(Customer.objects.filter(merged_into__isnull=True), "created_at", form)
    return customers.order_by("-id").annotate(
        first_email=_first_identity(IdentityKind.EMAIL), first_phone=_first_identity(IdentityKind.PHONE),
    ).values_list("id", "name", "kana", "first_email", "first_phone", "name_confirmed", "created_at")


def customer_header() -> list[str]:
    return [_("お客様番号"), _("お名前"), _("フリガナ"), _("メール"), _("電話"), _("お名前の確認"), _("登録日時")]


def customer_cells() -> Callable[[tuple[Any, ...]], list[Any]]:
    confirmed, unconfirmed = _("確認済み"), _("未確認")

    def cells(row: tuple[Any, ...]) -> list[Any]:
        pk, name, kana, email, phone, name_confirmed, created = row
        return [pk, name, kana, email or "", phone_display(phone) if phone else "",
                confirmed if name_confirmed else unconfirmed, stamp(created)]

    return cells


# --- the compensation ledger ---------------------------------------------------------------

def compensation_rows(user: User, form: Any) -> QuerySet[Any]:
    """A lead has their team's cases' compensations (whose requests they decide), an admin all."""
    data = form.cleaned_data
    rows = Compensation.objects.all()
    if not user.is_admin:
        rows = rows.filter(case__team__lead=user) if user.is_lead else rows.none()
    if data.get("state"):
        rows = rows.filter(state=data["state"])
    if data.get("kind"):
        rows = rows.filter(kind=data["kind"])
    rows = _in_period(rows, "created_at", form)
    return rows.order_by("-id").values_list(
        "id", "case_id", "case__subject", "case__customer__name", "kind", "amount_yen", "reason", "state",
        "requested_by_id", *_users("requested_by"), "created_at", "approved_by_id", *_users("approved_by"),
        "decided_at", "decision_note")


def compensation_header() -> list[str]:
    return [_("補償番号"), _("案件番号"), _("件名"), _("お客様"), _("種類"), _("金額（円）"), _("理由"), _("状態"),
            _("承認"), _("申請者"), _("申請日時"), _("判断した人"), _("判断日時"), _("判断のメモ")]


def compensation_cells() -> Callable[[tuple[Any, ...]], list[Any]]:
    kinds, states = _labels(CompensationKind.choices), _labels(CompensationState.choices)
    within, approved, waiting, rejected = _("権限内（承認不要）"), _("承認済み"), _("承認待ち"), _("却下")
    width = len(USER_LABEL_FIELDS)

    def cells(row: tuple[Any, ...]) -> list[Any]:
        pk, case_id, subject, customer, kind, amount, reason, state, requester_id, *rest = row
        requester, rest = rest[:width], rest[width:]
        created, approver_id, rest = rest[0], rest[1], rest[2:]
        approver, (decided, note) = rest[:width], rest[width:]
        if state == CompensationState.PENDING:
            approval = waiting
        elif state == CompensationState.REJECTED:
            approval = rejected
        else:
            approval = within if approver_id == requester_id else approved
        return [pk, case_id, subject, customer, kinds.get(kind, kind), amount, reason, states.get(state, state),
                approval, _who(requester), stamp(created), _who(approver), stamp(decided), note]

    return cells


# --- promises ------------------------------------------------------------------------------

def promise_rows(user: User, form: Any) -> QuerySet[Any]:
    data = form.cleaned_data
    rows = Commitment.objects.all()
    if data.get("state"):
        rows = rows.filter(state=data["state"])
    rows = _in_period(rows, "due_at", form)
    return rows.order_by("-id").values_list(
        "id", "case_id", "case__subject", "case__customer__name", "description", *_users("owner"), "department",
        "due_at", "state", *_users("created_by"), "created_at", "closed_at", "escalated_at")


def promise_header() -> list[str]:
    return [_("約束番号"), _("案件番号"), _("件名"), _("お客様"), _("約束した内容"), _("担当者"), _("担当部署"), _("期限"),
            _("状態"), _("期限超過"), _("登録した人"), _("登録日時"), _("完了日時"), _("リーダーへ通知した日時")]


def promise_cells() -> Callable[[tuple[Any, ...]], list[Any]]:
    states = _labels(CommitmentState.choices)
    overdue, now = _("超過"), timezone.now()
    width = len(USER_LABEL_FIELDS)

    def cells(row: tuple[Any, ...]) -> list[Any]:
        pk, case_id, subject, customer, description, *rest = row
        owner, rest = rest[:width], rest[width:]
        department, due, state, rest = rest[0], rest[1], rest[2], rest[3:]
        creator, (created, closed, escalated) = rest[:width], rest[width:]
        late = overdue if state == CommitmentState.OPEN and due < now else ""
        return [pk, case_id, subject, customer, description, _who(owner), department, stamp(due),
                states.get(state, state), late, _who(creator), stamp(created), stamp(closed), stamp(escalated)]

    return cells


KINDS = {kind.code: kind for kind in (
    Kind("cases", gettext_lazy("案件"), "cases", forms.CaseFilterForm, everyone, case_rows, case_header, case_cells,
         (0, "/cases/"), ("queue", "status", "category", "priority", "channel", "assignee")),
    Kind("customers", gettext_lazy("お客様"), "customers", forms.CustomerFilterForm, leads_and_admins, customer_rows,
         customer_header, customer_cells, (0, "/customers/"), ()),
    Kind("compensations", gettext_lazy("補償の台帳"), "compensations", forms.CompensationFilterForm, leads_and_admins,
         compensation_rows, compensation_header, compensation_cells, (1, "/cases/"), ("state", "kind")),
    Kind("promises", gettext_lazy("約束"), "promises", forms.PromiseFilterForm, everyone, promise_rows, promise_header,
         promise_cells, (1, "/cases/"), ("state",)),
)}


def every_row(kind: Kind, user: User, form: Any) -> Iterator[list[Any]]:
    """Every row of the export as cells, read CHUNK rows at a time from one statement."""
    cells = kind.cells()
    for row in kind.rows(user, form).iterator(chunk_size=CHUNK):
        yield cells(row)


def page(kind: Kind, user: User, form: Any, before: str = "") -> tuple[list[list[Any]], str]:
    """One page of the list (keyset on id, newest first) and the cursor of the next, or ""."""
    rows = kind.rows(user, form)
    if before.isdigit():
        rows = rows.filter(id__lt=int(before))
    found = list(rows[: PAGE_SIZE + 1])
    cells = kind.cells()
    more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    return [cells(row) for row in found], (str(found[-1][0]) if more else "")


def describe(kind: Kind, form: Any) -> str:
    """The filters of an export in words, for the access log."""
    parts = []
    for name in (*kind.filters, "date_from", "date_to"):
        value = form.cleaned_data.get(name)
        if value in (None, ""):
            continue
        field = form.fields[name]
        shown = dict(field.choices).get(value, value) if hasattr(field, "choices") else value
        parts.append(f"{field.label}: {shown}")
    return "、".join(str(part) for part in parts) or _("絞り込みなし")
