"""What the case page shows, built in plain Python, in a number of queries that does not grow
with the case's history. The views render it; nothing here knows about HTTP.

The page is the desk's busiest screen (issue 2: p95 under 50 ms with 50 entries), so the long
lists — the timeline and the change history — are formatted here, once per row, rather than
through a dozen template lookups per row, and rows carry only the columns the page shows."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, Q, QuerySet, Sum, prefetch_related_objects
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from madoguchi.accounts.models import USER_LABEL_FIELDS, User, user_label
from madoguchi.cases.models import (
    Case,
    CaseLink,
    Channel,
    CommitmentState,
    CompensationKind,
    CompensationState,
    InteractionKind,
    MergeRecord,
    Status,
)
from madoguchi.cases.services import MERGE_UNDO_DAYS
from madoguchi.cases.steps import CHECKLIST_ITEMS, CaseFacts, current_step, seven_steps
from madoguchi.cases.templatetags.desk import AUDIT_LABELS
from madoguchi.customers.models import IdentityKind
from madoguchi.figures import sep
from madoguchi.shop import desk as shop_desk
from madoguchi.shop.models import Carrier

# Relations loaded with the case in its one query. Other apps add theirs in AppConfig.ready()
# (metrics: the SLA clock "sla"), so their part of the page reads no row of its own.
CASE_PAGE_RELATED: list[str] = ["customer", "assignee", "team", "category", "order", "product", "passage"]
# Channel → what its app adds under that channel's entries (delivery state, attachments, an
# unsent mark), as (case, rows of the channel) → {interaction pk: escaped HTML}. Registered in
# AppConfig.ready() (line); called once per page for a channel the timeline has, never otherwise.
TIMELINE_EXTRAS: dict[str, Any] = {}


# The other apps' per-case lists that are empty on most cases (the status link and late notices,
# coupons, held replies, sent mail, SLA breaches, the same-person warning, 要注意 flags): name →
# a function giving the rows' queryset, tied to the case by OuterRef("pk") (or a column of the
# case, OuterRef("customer_id")). Registered in AppConfig.ready(). The page's case query asks
# EXISTS of each in the same statement (load_case(probed=True)); a tag asks may_have() first,
# so its own query runs only when there is something to show: no round trip, no ORM compile,
# for the empty ones (issue 16).
CASE_PAGE_EXISTS: dict[str, Callable[[], QuerySet[Any]]] = {}


def load_case(pk: int, *, probed: bool = False) -> Case:
    """The case with everything its page shows about it, in one query. PostgreSQL takes about
    6 ms to plan this many-way join, but the statement is prepared on each pooled connection
    (settings: prepare_threshold), so it is planned once, not per request. `probed`: with
    CASE_PAGE_EXISTS asked in the same statement (the page's GET; a POST that writes and then
    shows the page again reads the lists as they are now)."""
    cases = Case.objects.select_related(*CASE_PAGE_RELATED)
    if probed:
        cases = cases.annotate(**{f"page_has_{name}": Exists(rows()) for name, rows in CASE_PAGE_EXISTS.items()})
    return get_object_or_404(cases, pk=pk)


def may_have(case: Case, name: str) -> bool:
    """Whether the case may have rows of CASE_PAGE_EXISTS[name]: False only when the page's case
    query found none, so the caller can show the empty state without asking again."""
    return getattr(case, f"page_has_{name}", True) is not False


def loaded_with(case: Case, relation: str, load: Any) -> Any:
    """A one-to-one row of another app loaded with the case (CASE_PAGE_RELATED; None when the
    case has none), else `load()`: the same tag serves the page and a fragment that read the
    case alone."""
    cache = case._state.fields_cache
    return cache[relation] if relation in cache else load()


def labelled(items: list[Any], **choices: Any) -> list[Any]:
    """Attach `<field>_label` to each row from its choices, translated once per page, not per row."""
    for field, choice_list in choices.items():
        labels = {value: str(label) for value, label in choice_list}
        for item in items:
            value = getattr(item, field)
            setattr(item, f"{field}_label", labels.get(value, value))
    return items


@dataclass(frozen=True)
class TimelineEntry:
    """One timeline line with its head and body already escaped and formatted."""

    css: str
    html: str
    item: Any  # an InteractionRow or a Handover
    email: bool  # the mail app adds the raw mail / delivery state under it


@dataclass(frozen=True, slots=True)
class InteractionRow:
    """What the timeline shows of an interaction, read as a plain row: a model object per entry
    cost twice the time of the query itself. Has the attributes the mail app's `mail_entry`
    reads (pk, case_id, kind, channel)."""

    pk: int
    case_id: int
    kind: str
    channel: str
    occurred_at: Any
    body: str
    author_label: str


def _stamp(moment: Any, zone: Any, pattern: str = "%Y/%m/%d %H:%M") -> str:
    return moment.astimezone(zone).strftime(pattern)


def _user_columns(relation: str) -> list[str]:
    return [f"{relation}__{field}" for field in USER_LABEL_FIELDS]


def _text_html(text: str) -> str:
    """Escaped text with its line breaks as <br> (what the `linebreaksbr` filter gives)."""
    return html.escape(text).replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def interaction_rows(case: Case) -> list[InteractionRow]:
    rows = (case.interactions.order_by("occurred_at", "id")
            .values_list("id", "kind", "channel", "occurred_at", "body", "author_id", *_user_columns("author")))
    return [InteractionRow(pk, case.pk, kind, channel, at, body, user_label(*names) if author_id else "")
            for pk, kind, channel, at, body, author_id, *names in rows]


@dataclass(frozen=True, slots=True)
class HandoverRow:
    created_at: Any
    from_label: str
    to_label: str  # the agent, else the team
    note: str


def handover_rows(case: Case) -> list[HandoverRow]:
    rows = (case.handovers.order_by("created_at")
            .values_list("created_at", "note", "to_team__name", "from_user_id", *_user_columns("from_user"),
                         "to_user_id", *_user_columns("to_user")))
    width = len(USER_LABEL_FIELDS)
    found = []
    for at, note, team, from_id, *rest in rows:
        from_names, to_id, to_names = rest[:width], rest[width], rest[width + 1:]
        found.append(HandoverRow(at, user_label(*from_names) if from_id else "",
                                 user_label(*to_names) if to_id else (team or ""), note))
    return found


def timeline(case: Case, interactions: list[InteractionRow], handovers: list[HandoverRow]) -> list[TimelineEntry]:
    entries = []
    zone = timezone.get_current_timezone()  # once: each localtime() looks it up again
    e = html.escape
    kinds = {value: e(str(label)) for value, label in InteractionKind.choices}
    channels = {value: e(str(label)) for value, label in Channel.choices}
    staff_label, unassigned, handover_label = e(_("担当")), _("未割り当て"), e(_("引き継ぎ"))
    customer = e(case.customer.name)
    dot = f" {e(sep())} "
    extras: dict[int, str] = {}
    for channel, add in TIMELINE_EXTRAS.items():
        rows = [item for item in interactions if item.channel == channel]
        if rows:
            extras.update(add(case, rows))
    for item in interactions:
        if item.author_label:
            who = f"{dot}{staff_label}: {e(item.author_label)}"
        elif item.kind == InteractionKind.INBOUND:
            who = f"{dot}{customer}"
        else:
            who = ""
        body = (f'<div class="entry-head"><strong>{kinds.get(item.kind, e(item.kind))}</strong>{dot}'
                f'{channels.get(item.channel, e(item.channel))}{dot}<time>{_stamp(item.occurred_at, zone)}</time>{who}</div>\n'
                f'<div class="body">{_text_html(item.body)}</div>{extras.get(item.pk, "")}')
        entries.append((item.occurred_at, TimelineEntry(f"k-{item.kind}", mark_safe(body),  # noqa: S308 - escaped above
                                                        item, item.channel == Channel.EMAIL)))
    for handover in handovers:
        body = (f'<div class="entry-head"><strong>{handover_label}</strong>{dot}<time>{_stamp(handover.created_at, zone)}</time>{dot}'
                f'{e(handover.from_label or unassigned)} → {e(handover.to_label)}</div>\n'
                f'<div class="body">{_text_html(handover.note)}</div>')
        entries.append((handover.created_at, TimelineEntry("k-handover", mark_safe(body), handover, False)))  # noqa: S308
    entries.sort(key=lambda entry: entry[0])
    return [entry for _at, entry in entries]


AUDIT_SHOWN = 30  # the latest changes on the page; the admin keeps all of them


def audit_lines(case: Case) -> SafeString:
    """The change history list (latest first) as escaped <li> lines."""
    rows = case.audit_events.order_by("-at").values_list("at", "action", "actor_id", *_user_columns("actor"))[:AUDIT_SHOWN]
    zone = timezone.get_current_timezone()
    system = _("システム")
    labels = {action: str(label) for action, label in AUDIT_LABELS.items()}
    e = html.escape
    return mark_safe("".join(  # noqa: S308 - every value is escaped with html.escape
        f"<li><time>{_stamp(at, zone, '%m/%d %H:%M')}</time> {e(user_label(*names) if actor_id else system)}: "
        f"{e(labels.get(action, action))}</li>"
        for at, action, actor_id, *names in rows
    ))


@dataclass(frozen=True, slots=True)
class LinkRow:
    pk: int
    other_pk: int
    other_subject: str
    other_status: str
    other_customer: str
    note: str


def link_rows(case: Case) -> list[LinkRow]:
    """The cases linked to this one (either side of the symmetric row), in one query."""
    rows = (CaseLink.objects.filter(Q(case_a=case.pk) | Q(case_b=case.pk)).order_by("created_at", "pk")
            .values_list("pk", "note", "case_a_id", "case_a__subject", "case_a__status", "case_a__customer__name",
                         "case_b_id", "case_b__subject", "case_b__status", "case_b__customer__name"))
    labels = {value: str(label) for value, label in Status.choices}
    found = []
    for pk, note, a_id, a_subject, a_status, a_customer, b_id, b_subject, b_status, b_customer in rows:
        if a_id == case.pk:
            found.append(LinkRow(pk, b_id, b_subject, labels.get(b_status, b_status), b_customer, note))
        else:
            found.append(LinkRow(pk, a_id, a_subject, labels.get(a_status, a_status), a_customer, note))
    return found


@dataclass(frozen=True, slots=True)
class MergeRow:
    pk: int
    source_pk: int
    source_subject: str
    at: Any
    actor_label: str


def merge_rows(case: Case, now: Any, days: int) -> list[MergeRow]:
    """Cases merged into this one that 「統合を取り消す」 may still bring back (one query on the
    partial index of merges not undone)."""
    rows = (MergeRecord.objects.filter(target=case.pk, undone_at__isnull=True, at__gte=now - dt.timedelta(days=days))
            .order_by("-at", "-pk").values_list("pk", "source_id", "source__subject", "at", "actor_id", *_user_columns("actor")))
    return [MergeRow(pk, source, subject, at, user_label(*names) if actor_id else "")
            for pk, source, subject, at, actor_id, *names in rows]


def case_context(case: Case, user: User) -> dict[str, Any]:
    """What the case page shows on its first response. The side panels (rules, metrics,
    customer), the reply templates and the forms come in their own requests (htmx), so the
    first response stays small."""
    interactions = interaction_rows(case)
    handovers = handover_rows(case)
    commitments = labelled(list(case.commitments.select_related("owner").order_by("state", "due_at")),
                           state=CommitmentState.choices)
    compensations = labelled(
        list(case.compensations.select_related("requested_by", "approved_by").order_by("-created_at")),
        kind=CompensationKind.choices, state=CompensationState.choices)
    kinds = {i.kind for i in interactions if i.author_label}  # written by a person (a label iff an author)
    facts = CaseFacts(  # from the lists above: the same as steps.facts_for, without its three queries
        has_reply=InteractionKind.OUTBOUND in kinds, has_note=InteractionKind.NOTE in kinds,
        commitment_count=len(commitments),
        compensation_count=sum(1 for c in compensations if c.state != CompensationState.REJECTED),
    )
    steps = seven_steps(case, facts)
    now = timezone.now()
    checked = case.checklist or {}
    return {
        "case": case,
        "timeline": timeline(case, interactions, handovers),
        # The newest entry on screen: the reply form sends it, so a reply sent meanwhile by
        # somebody else holds this agent's (services.ReplyCollision).
        "last_entry_id": max((row.pk for row in interactions), default=0),
        "steps": steps,
        "current_step": current_step(steps),
        "checklist": [(code, label, bool(checked.get(code))) for code, label in CHECKLIST_ITEMS],
        "commitments": commitments,
        "compensations": compensations,
        "audit_lines": audit_lines(case),
        "can_decide": user.is_lead or user.is_admin,
        "now": now,
        "links": link_rows(case),
        "merges_in": merge_rows(case, now, MERGE_UNDO_DAYS),
    }


def customer_context(case: Case) -> dict[str, Any]:
    customer = case.customer
    prefetch_related_objects([customer], "identities")
    totals = customer.orders.aggregate(total=Sum("amount_yen"), count=Count("id"))
    orders = labelled(list(customer.orders.order_by("-ordered_at")[:10]), carrier=Carrier.choices)
    return {
        "case": case,
        # Kept on the customer (prefetched): the mail app's reply address reads them from there.
        "identities": labelled(list(customer.identities.all()), kind=IdentityKind.choices),
        "orders": orders,
        # The lines of these orders and of the case's order, read once for the order card and the panel.
        "order_lines": shop_desk.page_lines(case, orders),
        "order_total": totals["total"] or 0,
        "order_count": totals["count"],
        "past_cases": labelled(
            list(customer.cases.exclude(pk=case.pk).only("pk", "customer_id", "order_id", "subject", "received_at", "status", "merged_into_id").order_by("-received_at")[:20]),
            status=Status.choices),
    }
