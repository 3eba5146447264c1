"""Thin HTTP views of the case desk: parse the request, call services, render."""

from __future__ import annotations

import datetime as dt
import html
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from madoguchi import navigation
from madoguchi.accounts.access import staff_user
from madoguchi.accounts.models import User
from madoguchi.accounts.services import decision_refusals
from madoguchi.cases import (
    attention,
    authority,
    labels,
    page,
    queues,
    record_merge,
    saved_views,
    services,
)
from madoguchi.cases.forms import (
    CaseEditForm,
    CommitmentForm,
    CompensationForm,
    DecisionForm,
    HandoverForm,
    InteractionForm,
    LinkForm,
    MergeForm,
    NewCaseForm,
    ReplyForm,
)
from madoguchi.cases.models import (
    ACTIVE_STATUSES,
    Case,
    CaseLink,
    Category,
    Channel,
    Commitment,
    CommitmentState,
    Compensation,
    CompensationState,
    CustomField,
    MergeRecord,
    Priority,
    Status,
    Tag,
)
from madoguchi.cases.templatetags.desk import due_label_on
from madoguchi.customers.services import customer_for_call
from madoguchi.shop import desk as shop_desk


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    code = request.GET.get("queue", "mine")
    if code not in queues.QUEUE_CODES:
        code = "mine"
    tags, fields = _label_lists()
    filters = queues.clean_filters(request.GET.dict())
    label_filters = labels.clean_label_filters(request.GET.dict(), fields)
    sort = request.GET.get("sort", "newest")
    page = queues.page_of(code, user, filters | label_filters, sort, request.GET.get("cursor", ""))
    counts, inbox_counts = _badges(request, user)
    context = {
        "queue": code,
        "queues": queues.QUEUES,
        "counts": counts,
        "inbox_counts": inbox_counts,
        "page": page,
        # The resolved queue is in order of resolution, so it shows when each was resolved.
        "rows": _inbox_rows(page, by_resolution=code == "resolved", viewer=user),
        "filters": filters,
        "sort": sort,
        "sorts": {key: label for key, (_fields, label) in queues.SORTS.items()},
        "options": _filter_options(filters),
        "query_without_cursor": _query_without(request, "cursor"),
        "now_utc": timezone.now(),
        # The queue and filters on screen, for the CSV of these cases (exports app).
        "export_query": urlencode({"queue": code, **{key: value for key, value in filters.items() if value}}),
        # Issue 22 item 3: tags, custom fields, saved views, bulk actions.
        "tag_options": _options([(t.pk, t.name) for t in tags], label_filters.get("tag")),
        "tagq": label_filters.get("tagq", ""),
        "field_filters": _field_filters(fields, label_filters),
        "saved_views": saved_views.views_for(user),
        "view_query": saved_views.clean_query(urlencode({"queue": code, "sort": sort, **filters, **label_filters})),
        "bulk_options": _bulk_options(tags),
        "here": request.get_full_path(),
    }
    return render(request, "cases/inbox.html", context)


@dataclass(frozen=True)
class FieldFilter:
    """One custom field's inputs in the inbox filters: a choice's dropdown, a text box, or a range."""

    label: str
    kind: str
    key: str
    value: str = ""
    options: str = ""
    low: str = ""
    high: str = ""


def _field_filters(fields: list[Any], filters: dict[str, str]) -> list[FieldFilter]:
    found = []
    for field in fields:
        key = labels.filter_key(field)
        if field.kind == "choice":
            found.append(FieldFilter(field.label, field.kind, key, options=_options([(c, c) for c in field.choices], filters.get(key))))
        elif field.kind == "text":
            found.append(FieldFilter(field.label, field.kind, key, value=filters.get(key, "")))
        else:
            found.append(FieldFilter(field.label, field.kind, key, low=filters.get(f"{key}_min", ""), high=filters.get(f"{key}_max", "")))
    return found


def _bulk_options(tags: list[labels.TagChip]) -> dict[str, str]:
    categories, agents = _dropdown_lists()
    return {
        "assign": _options(agents, None),
        "status": _options(Status.choices, None),
        "category": _options(categories, None),
        "tag": _options([(t.pk, t.name) for t in tags], None),
    }


def _options(choices: Any, selected: Any) -> str:
    """`<option>`s of a filter dropdown, built once in Python rather than per option in the template."""
    selected = "" if selected is None else str(selected)
    return mark_safe("".join(  # noqa: S308 - every value and label goes through html.escape()
        f'<option value="{html.escape(str(value))}"{" selected" if str(value) == selected else ""}>{html.escape(str(label))}</option>'
        for value, label in choices
    ))


# The category, agent, tag and custom-field lists of the filter dropdowns, kept per process for
# a minute: they change rarely, and every inbox page would otherwise ask the database for them
# four times. Saving or deleting one empties the cache in this process at once; another process
# sees the change within FILTER_LISTS_SECONDS.
FILTER_LISTS_SECONDS = 60.0
_filter_lists: dict[str, Any] = {}


def _forget_filter_lists(**_kwargs: Any) -> None:
    _filter_lists.clear()


for _model in (User, Category, Tag, CustomField):
    post_save.connect(_forget_filter_lists, sender=_model, dispatch_uid=f"cases-filter-lists-save-{_model.__name__}")
    post_delete.connect(_forget_filter_lists, sender=_model, dispatch_uid=f"cases-filter-lists-delete-{_model.__name__}")


def _dropdown_lists() -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    now = time.monotonic()
    if _filter_lists.get("until", 0.0) < now:
        agents = User.objects.filter(is_active=True).order_by("username").only(
            "pk", "username", "display_name", "first_name", "last_name")
        _filter_lists.update(
            categories=list(Category.objects.filter(active=True).values_list("pk", "name")),
            agents=[(a.pk, str(a)) for a in agents],
            tags=labels.all_tags(),
            fields=labels.active_fields(),
            until=now + FILTER_LISTS_SECONDS,
        )
    return _filter_lists["categories"], _filter_lists["agents"]


def _label_lists() -> tuple[list[labels.TagChip], list[CustomField]]:
    """The shop's tags and active custom fields (kept with the dropdown lists)."""
    _dropdown_lists()
    return _filter_lists["tags"], _filter_lists["fields"]


def _filter_options(filters: dict[str, Any]) -> dict[str, str]:
    categories, agents = _dropdown_lists()
    return {
        "status": _options(Status.choices, filters.get("status")),
        "category": _options(categories, filters.get("category")),
        "priority": _options(Priority.choices, filters.get("priority")),
        "channel": _options(Channel.choices, filters.get("channel")),
        "assignee": _options(agents, filters.get("assignee")),
    }


@dataclass(frozen=True)
class InboxRow:
    """One inbox line, formatted once in Python: a 50-row page costs less to render."""

    pk: int
    url: str
    subject: str
    priority: int
    priority_label: str
    status: str
    status_label: str
    customer: str
    category: str
    assignee: str
    received: str
    updated: str  # when anything on the case last changed (a message, a status, a note)
    due: str
    due_label: str
    overdue: bool
    new_reply: str = ""  # the 「新着返信」 label when the customer wrote since staff last looked
    customer_mark: str = ""  # e.g. 「要注意」: the customer is flagged (another app's, INBOX_CUSTOMER_MARKS)
    take: str = ""  # the 「自分が担当」 button (escaped HTML) on an open case somebody else or nobody has
    version: int = 0  # sent with the row's checkbox: a bulk action refuses a case changed since
    tags: tuple[labels.TagChip, ...] = ()
    select_label: str = ""
    channel: str = ""  # the first channel's code: its icon (CHANNEL_ICONS)
    channel_label: str = ""

    @property
    def cells(self) -> str:
        """The row's cells but the SLA timer (another app's). Every text goes through the
        standard library's html.escape: the same escaping as Django's escape(), without its
        lazy-string checks, which cost more than the rest of the row at 50 rows a page."""
        e = html.escape
        due = (f'<span class="{"overdue" if self.overdue else ""}">{e(self.due)}</span> <small>{e(self.due_label)}</small>'
               if self.due else "")
        url = e(self.url)
        mark = f' <span class="badge new-reply" data-testid="new-reply">{e(self.new_reply)}</span>' if self.new_reply else ""
        flag = (f'<span class="badge flag" data-testid="customer-flag">⚠ {e(self.customer_mark)}</span> '
                if self.customer_mark else "")
        tags = "".join(f' <span class="tag tag-{e(t.colour)}" data-testid="tag">{e(t.name)}</span>' for t in self.tags)
        icon = (f'<span class="ch ch-{e(self.channel)}" role="img" title="{e(self.channel_label)}"'
                f' aria-label="{e(self.channel_label)}" data-testid="channel">{CHANNEL_ICONS.get(self.channel, "•")}</span> ')
        return mark_safe(  # noqa: S308 - every value is escaped above or here
            f'<td class="num"><input type="checkbox" name="case" value="{int(self.pk)}.{int(self.version)}" form="bulk"'
            f' aria-label="{e(self.select_label)} #{int(self.pk)}" data-testid="select"> <a href="{url}">#{int(self.pk)}</a></td><td class="subject">{icon}<a href="{url}">{e(self.subject)}</a>{mark}{tags}</td>'
            f'<td>{flag}{e(self.customer)}</td><td>{e(self.category)}</td>'
            f'<td><span class="status s-{e(self.status)}">{e(self.status_label)}</span></td><td>{e(self.priority_label)}</td>'
            f'<td data-testid="row-assignee">{e(self.assignee)}{self.take}</td><td class="nowrap">{e(self.received)}</td><td class="nowrap" data-testid="updated">{e(self.updated)}</td>'
            f'<td class="nowrap" data-testid="due">{due}</td>'
        )


# A glyph per channel, read at a glance down the subject column (the label is its title and
# aria-label); plain characters, so a row costs no image request.
CHANNEL_ICONS: dict[str, str] = {
    Channel.EMAIL: "✉", Channel.PHONE: "☎", Channel.CHAT: "💬", Channel.LINE: "L",
    Channel.X: "𝕏", Channel.FORM: "✎", Channel.OTHER: "•",
}


# Apps that show a count on the inbox (progress: late notices awaiting approval), as (name,
# user → rows); counted with the queue badges in one statement and given to the template as
# inbox_counts[name] (a badge label: "" for none). Registered in their AppConfig.ready().
INBOX_COUNTS: list[tuple[str, Callable[[User], Any]]] = []


def _badges(request: HttpRequest, user: User) -> tuple[dict[str, str], dict[str, str]]:
    """(queue badges, other apps' inbox counts), read in one statement with the top bar's badges,
    which are left on the request for the bar (navigation.PRESET)."""
    also = {f"nav:{name}": rows for name, rows in navigation.badge_rows(user).items()}
    also.update({f"app:{name}": rows(user) for name, rows in INBOX_COUNTS})
    counted = queues.queue_counts(user, also)
    setattr(request, navigation.PRESET, {key[4:]: value for key, value in counted.items() if key.startswith("nav:")})
    return counted, {key[4:]: value for key, value in counted.items() if key.startswith("app:")}


# Apps that mark a customer on the inbox row (knowledge: 要注意), as customer ids → label, one
# query a page; registered in their AppConfig.ready().
INBOX_CUSTOMER_MARKS: list[Callable[[set[int]], dict[int, str]]] = []


def _customer_marks(page: queues.Page) -> dict[int, str]:
    ids = {case.customer_id for case in page.cases}
    marks: dict[int, str] = {}
    for find in INBOX_CUSTOMER_MARKS if ids else []:
        marks.update(find(ids))
    return marks


def take_button(case_url: str, version: int, label: str) -> str:
    """「自分が担当」 in an inbox row: htmx posts it and puts the answer in the row's cell."""
    return (f' <button type="button" class="link take" data-testid="take" hx-post="{html.escape(case_url)}take/"'
            f' hx-vals=\'{{"version": "{int(version)}"}}\' hx-target="closest td">{html.escape(label)}</button>')


def _inbox_rows(page: queues.Page, by_resolution: bool = False, viewer: User | None = None) -> list[InboxRow]:
    detail_prefix = reverse("cases:detail", args=[0]).removesuffix("0/")
    takeable = set(ACTIVE_STATUSES)
    viewer_id = viewer.pk if viewer is not None else None
    take_label = _("自分が担当")
    statuses = {value: str(label) for value, label in Status.choices}
    priorities = {value: str(label) for value, label in Priority.choices}
    now = timezone.now()
    zone = timezone.get_current_timezone()  # once: each localtime() call looks it up again
    today = now.astimezone(zone).date()
    new_reply = _("新着返信")
    marks = _customer_marks(page)
    tags = labels.tags_by_case([case.pk for case in page.cases])
    select_label = _("選択")
    channels = {value: str(label) for value, label in Channel.choices}
    rows = []
    for case in page.cases:
        due = page.due_by_case.get(case.pk)
        local_due = due.astimezone(zone) if due else None
        rows.append(InboxRow(
            pk=case.pk, url=f"{detail_prefix}{case.pk}/", subject=case.subject,
            priority=case.priority, priority_label=priorities.get(case.priority, ""),
            status=case.status, status_label=statuses.get(case.status, case.status),
            customer=case.customer.name, category=case.category.name,
            assignee=str(case.assignee) if case.assignee_id else "—",
            received=_short_time(((by_resolution and case.resolved_at) or case.received_at).astimezone(zone), today),
            updated=_short_time(case.updated_at.astimezone(zone), today),
            channel=case.channel, channel_label=channels.get(case.channel, case.channel),
            due=local_due.strftime("%m/%d %H:%M") if local_due else "",
            due_label=due_label_on(local_due, now, today) if local_due else "", overdue=bool(due and due < now),
            new_reply=new_reply if case.unread_by_assignee else "", customer_mark=marks.get(case.customer_id, ""),
            take=take_button(f"{detail_prefix}{case.pk}/", case.version, take_label)
            if viewer_id is not None and case.assignee_id != viewer_id and case.status in takeable else "",
            version=case.version, tags=tuple(tags.get(case.pk, ())), select_label=select_label,
        ))
    return rows


def _short_time(moment: dt.datetime, today: dt.date) -> str:
    """「14:03」 today, 「12/06 14:03」 this year, else the full date: the column stays narrow."""
    if moment.date() == today:
        return moment.strftime("%H:%M")
    if moment.year == today.year:
        return moment.strftime("%m/%d %H:%M")
    return moment.strftime("%Y/%m/%d %H:%M")


def _query_without(request: HttpRequest, key: str) -> str:
    query = request.GET.copy()
    query.pop(key, None)
    return query.urlencode()


# Forms the agent opens on demand: rendered inline only when a POST failed (with its errors),
# otherwise fetched by htmx when its <details> opens (`case_part`).
FORM_PARTS: dict[str, tuple[str, str, Any]] = {
    # part: (context name, URL name of the POST, button label)
    "interaction": ("interaction_form", "cases:interaction", gettext_lazy("記録する")),
    "edit": ("edit_form", "cases:edit", gettext_lazy("保存")),
    "commitment": ("commitment_form", "cases:commitment_add", gettext_lazy("約束を登録")),
    "compensation": ("compensation_form", "cases:compensation_add", gettext_lazy("申請する")),
    "handover": ("handover_form", "cases:handover", gettext_lazy("引き継ぐ")),
    "merge": ("merge_form", "cases:merge", gettext_lazy("統合する")),
    "link": ("link_form", "cases:link", gettext_lazy("リンクする")),
}


def _blank_form(part: str, case: Case) -> Any:
    if part == "edit":
        return CaseEditForm.for_case(case)
    if part == "interaction":
        return InteractionForm(prefix="ia")
    if part == "commitment":
        return CommitmentForm(prefix="cm")
    if part == "compensation":
        return CompensationForm(prefix="cp")
    if part == "merge":
        return MergeForm(prefix="mg", candidates=services.merge_candidates(case))
    if part == "link":
        return LinkForm(prefix="ln")
    return HandoverForm(initial={"version": case.version}, prefix="ho")


def _case_context(case: Case, user: User, **forms: Any) -> dict[str, Any]:
    """The case page's context; `forms` are those to show inline (a POST that failed, with its
    errors). The others are loaded when the agent opens them (`case_part`)."""
    context = page.case_context(case, user) | page.customer_context(case)
    context["reply_form"] = forms.get("reply_form") or ReplyForm(prefix="re", initial={"seen": context["last_entry_id"]})
    context["reply_collision"] = forms.get("reply_collision")
    context["reply_options"] = forms.get("reply_options")  # the channel's part of the reply form, bound
    context["conflict"] = forms.get("conflict")
    context["conflict_fields"] = forms.get("conflict_fields", [])
    for _part, (name, _url, _button) in FORM_PARTS.items():
        context[name] = forms.get(name)  # None: loaded when opened
    from madoguchi.cases.views_inbox_tools import labels_context

    context |= labels_context(case)
    return context


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = page.load_case(pk, probed=True)
    user = staff_user(request)
    if case.merged_into_id is not None and "merged" not in request.GET:
        # A merged case lives on in the case it went into; `?merged` shows the closed one.
        messages.info(request, _("案件 %(source)s は案件 #%(target)s に統合されました。") % {
            "source": case.number, "target": case.merged_into_id})
        return redirect("cases:detail", pk=case.merged_into_id)
    attention.do_mark_seen(case, user)  # the assignee has seen the customer's new reply
    return render(request, "cases/case_detail.html", _case_context(case, user))


@login_required
def case_part(request: HttpRequest, pk: int, part: str) -> HttpResponse:
    """One lazily loaded piece of the case page (htmx): the side panels, or a blank form."""
    if part == "side":
        case = get_object_or_404(Case.objects.select_related("customer", "category"), pk=pk)
        return render(request, "cases/_case_side.html", page.customer_context(case))
    if part not in FORM_PARTS:
        raise Http404
    case = get_object_or_404(Case, pk=pk)
    _name, url_name, button = FORM_PARTS[part]
    return render(request, "cases/_case_form.html", {
        "case": case, "form": _blank_form(part, case), "action": reverse(url_name, args=[pk]),
        "button": button, "part": part,
    })


def _rerender(request: HttpRequest, case: Case, status: int = 400, **forms: Any) -> HttpResponse:
    return render(request, "cases/case_detail.html", _case_context(case, staff_user(request), **forms), status=status)


@login_required
def case_new(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    form = NewCaseForm(request.POST or None, initial=shop_desk.intake_initial(request.GET.get("order")))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = _create_from_form(user, data)
        except services.CaseError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("案件 %(number)s を登録しました。") % {"number": case.number})
            if data["fact_order_number"] and case.order_id is None:
                _warn_of_other_customers_order(request, case, data["fact_order_number"])
            return redirect("cases:detail", pk=case.pk)
    return render(request, "cases/case_new.html", {"form": form}, status=400 if form.errors else 200)


def _warn_of_other_customers_order(request: HttpRequest, case: Case, number: str) -> None:
    other = shop_desk.other_customers_order(case.customer, number)
    if other is not None:
        messages.warning(request, _("注文番号 %(number)s は別のお客様の注文のため、案件にリンクしていません。"
                                    "確かめたうえでリンクするときは「注文を探してリンクする」から選んでください。")
                         % {"number": other.number})


def _create_from_form(user: User, data: dict[str, Any]) -> Case:
    from django.db import transaction

    with transaction.atomic():
        customer = customer_for_call(name=data["customer_name"], kana=data["customer_kana"], phone=data["phone"],
                                     email=data["email"], channel=data["channel"], by=user,
                                     line=data["line_id"], x=data["x_handle"])
        # Only this customer's order is linked by its number; another's only by an agent's choice.
        order = shop_desk.order_for_new_case(customer, data["fact_order_number"])
        case = services.do_create_case(
            actor=user, customer=customer, subject=data["subject"].strip(), channel=data["channel"],
            category=data["category"], priority=data["priority"], complaint=data["complaint"],
            received_at=data["received_at"], assignee=user, order=order,
            solution=data["solution"], landing_point=data["landing_point"],
            fact_order_number=data["fact_order_number"], fact_product=data["fact_product"],
            fact_what_happened=data["fact_what_happened"], fact_when=data["fact_when"],
            checklist={code: True for code in data["checklist"]},
        )
        if data["commitment_description"]:
            services.do_add_commitment(case, actor=user, description=data["commitment_description"], due_at=data["commitment_due_at"])
        return case


@login_required
@require_POST
def case_edit(request: HttpRequest, pk: int) -> HttpResponse:
    case = page.load_case(pk)
    form = CaseEditForm(request.POST, prefix="edit")
    if not form.is_valid():
        return _rerender(request, case, edit_form=form)
    try:
        services.do_update_case(case, actor=staff_user(request), expected_version=form.cleaned_data["version"],
                                changes=form.changes(), base=form.cleaned_data["base"])
    except services.CaseConflict as conflict:
        # Both changed the same field: keep what the agent typed, show what the other person wrote,
        # and open the form at the new version so the next save is the agent's informed choice.
        current = page.load_case(pk)
        merged = CaseEditForm.for_case(current, keep=form.agents_changes())
        return _rerender(request, current, status=409, edit_form=merged, conflict=str(conflict),
                         conflict_fields=_theirs(merged, current, conflict.clashes))
    except services.CaseError as error:
        form.add_error(None, str(error))
        return _rerender(request, case, edit_form=form)
    messages.success(request, _("保存しました。"))
    _warn_of_loose_ends(request, case, form.cleaned_data["status"])
    return redirect("cases:detail", pk=pk)


def _warn_of_loose_ends(request: HttpRequest, case: Case, status: str) -> None:
    """Resolving a case does not keep its promises: say which are still open (SPEC §2)."""
    if status not in (Status.RESOLVED, Status.CLOSED):
        return
    open_promises = case.commitments.filter(state=CommitmentState.OPEN).count()
    pending = case.compensations.filter(state=CompensationState.PENDING).count()
    if open_promises or pending:
        messages.warning(request, _("まだ終わっていないものがあります: 未完了の約束 %(promises)s件、承認待ちの補償 %(pending)s件。"
                                    "約束を守ったか、お客様に連絡したかを確かめてください。")
                         % {"promises": open_promises, "pending": pending})


def _theirs(form: CaseEditForm, case: Case, names: list[str]) -> list[tuple[str, str]]:
    """(label, the other person's value) of each clashing field, as the agent should read it."""
    shown = []
    for name in names:
        field = form.fields[name]
        value = record_merge.current_value(case, name)
        if name == "checklist":
            labels = dict(getattr(field, "choices", []))
            text = "、".join(str(labels.get(code, code)) for code, done in (value or {}).items() if done) or "—"
        elif hasattr(field, "choices") and name != "category":
            text = str(dict(field.choices).get(value, value))
        elif name == "category":
            text = str(case.category)
        else:
            text = str(value or "—")
        shown.append((str(field.label), text if len(text) <= 300 else text[:300] + "…"))
    return shown


@login_required
@require_POST
def case_take(request: HttpRequest, pk: int) -> HttpResponse:
    """「自分が担当」 from the case page (a form: back to the page) or an inbox row (htmx: the
    row's assignee cell, with a Japanese message when the case changed in between)."""
    case = get_object_or_404(Case, pk=pk)
    user = staff_user(request)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = -1
    error = ""
    try:
        case = services.do_take_case(case, actor=user, expected_version=version)
    except services.CaseConflict as conflict:
        error = _("%(message)s 担当者は %(assignee)s です。") % {
            "message": conflict.args[0], "assignee": conflict.case.assignee or _("未割り当て")}
        case = conflict.case
    except services.CaseError as refused:
        error = str(refused)
    if request.htmx:  # type: ignore[attr-defined]
        cell = html.escape(str(case.assignee or "—"))
        if error:
            cell += f' <span class="error" role="alert" data-testid="take-error">{html.escape(error)}</span>'
        else:
            cell = f'<strong data-testid="taken">{cell}</strong>'
        return HttpResponse(cell)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("この案件の担当になりました。"))
    return redirect("cases:detail", pk=pk)


@login_required
@require_POST
def case_interaction(request: HttpRequest, pk: int) -> HttpResponse:
    case = page.load_case(pk)
    form = InteractionForm(request.POST, prefix="ia")
    if form.is_valid():
        try:
            services.do_add_interaction(
                case, actor=staff_user(request), kind=form.cleaned_data["kind"], channel=form.cleaned_data["channel"],
                body=form.cleaned_data["body"], occurred_at=form.cleaned_data["occurred_at"],
            )
        except services.CaseError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("やりとりを記録しました。"))
            return redirect("cases:detail", pk=pk)
    return _rerender(request, case, interaction_form=form)


@login_required
@require_POST
def case_reply(request: HttpRequest, pk: int) -> HttpResponse:
    case = page.load_case(pk)
    form = ReplyForm(request.POST, prefix="re")
    # The channel's own part of the form (mail: CC, BCC, a time to send; approval).
    options_class = services.REPLY_OPTIONS.get(services.reply_channel(case))
    options = options_class(request.POST, case=case, actor=staff_user(request)) if options_class else None
    options_ok = options is None or options.is_valid()
    if form.is_valid() and options_ok:
        try:
            with transaction.atomic():  # the reply and what its template's macro sets, or neither
                # Held for approval or a time to send: nothing on the timeline yet (mail.held).
                kept = options.hold(case, staff_user(request), form.cleaned_data["body"]) if options is not None else None
                reply = None if kept else services.do_send_reply(
                    case, actor=staff_user(request), body=form.cleaned_data["body"], seen_up_to=form.cleaned_data["seen"],
                    delivery=options.delivery if options is not None else None)
                done = [line for act in services.REPLY_ACTIONS for line in act(case, staff_user(request), form.cleaned_data)]
        except services.ReplyCollision as collision:
            # Nothing was sent. Their reply first, then the agent's words kept, now marked as
            # having seen it: 「それでも送信」 posts it again (held again if yet another came).
            data = request.POST.copy()
            data["re-seen"], data["re-confirm"] = str(collision.replies[-1].pk), "on"
            held = ReplyForm(data, prefix="re")
            held.is_valid()
            return _rerender(request, page.load_case(pk), status=409, reply_form=held, reply_collision=collision,
                             reply_options=options)
        except services.CaseError as error:
            form.add_error(None, str(error))
            # Rolled back: the case as stored, not as the refused reply left it in memory
            # (its first reply would have assigned it and moved its version).
            case = page.load_case(pk)
        else:
            if done:
                messages.info(request, _("テンプレートの設定も反映しました: %(done)s") % {"done": " / ".join(done)})
            if reply is None:
                messages.success(request, str(kept))
            elif reply.channel in services.DELIVERED_CHANNELS:
                messages.success(request, _("返信を登録しました。"))
            else:  # nothing sends a phone (or LINE, X) reply: say so, so nobody waits for it
                messages.warning(request, _("お客様へのやりとりとして記録しました。%(channel)sの案件のため送信はされません。お客様へは%(channel)sでお伝えください。")
                                 % {"channel": reply.get_channel_display()})
            return redirect("cases:detail", pk=pk)
    elif not options_ok and options is not None and form.is_valid():
        form.add_error(None, _("メールの送信方法に誤りがあります。下の項目を確認してください。返信はまだ送っていません。"))
    return _rerender(request, case, reply_form=form, reply_options=options)


@login_required
@require_POST
def case_handover(request: HttpRequest, pk: int) -> HttpResponse:
    case = page.load_case(pk)
    form = HandoverForm(request.POST, prefix="ho")
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.do_hand_over(case, actor=staff_user(request), expected_version=data["version"], note=data["note"],
                                  to_user=data["to_user"], to_team=data["to_team"])
        except services.CaseConflict as conflict:
            # The page now shows who has the case; the form keeps the note, at the new version,
            # so handing over anyway is one more click, not a dead end.
            current = page.load_case(pk)
            data = request.POST.copy()
            data["ho-version"] = str(current.version)
            return _rerender(request, current, status=409, handover_form=HandoverForm(data, prefix="ho"), conflict=str(conflict))
        except services.CaseError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("引き継ぎました。"))
            return redirect("cases:detail", pk=pk)
    return _rerender(request, case, handover_form=form)


@login_required
@require_POST
def commitment_add(request: HttpRequest, pk: int) -> HttpResponse:
    case = page.load_case(pk)
    form = CommitmentForm(request.POST, prefix="cm")
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.do_add_commitment(case, actor=staff_user(request), description=data["description"], due_at=data["due_at"],
                                       owner=data["owner"], department=data["department"], internal=data["internal"])
        except services.CaseError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("約束を登録しました。"))
            return redirect("cases:detail", pk=pk)
    return _rerender(request, case, commitment_form=form)


@login_required
@require_POST
def commitment_close(request: HttpRequest, pk: int, commitment_id: int) -> HttpResponse:
    commitment = get_object_or_404(Commitment.objects.select_related("case"), pk=commitment_id, case_id=pk)
    try:
        services.do_close_commitment(commitment, actor=staff_user(request), kept=request.POST.get("kept") == "1")
    except services.CaseError as error:
        messages.error(request, str(error))
    return redirect("cases:detail", pk=pk)


@login_required
@require_POST
def compensation_add(request: HttpRequest, pk: int) -> HttpResponse:
    case = page.load_case(pk)
    form = CompensationForm(request.POST, prefix="cp")
    if form.is_valid():
        data = form.cleaned_data
        try:
            compensation = services.do_request_compensation(case, actor=staff_user(request), kind=data["kind"],
                                                            amount_yen=data["amount_yen"], reason=data["reason"])
        except services.CaseError as error:
            form.add_error(None, str(error))
        else:
            if compensation.state == CompensationState.PENDING:
                messages.warning(request, _("%(reason)sチームリーダーの承認を待っています。承認されるまで付与されません。")
                                 % {"reason": compensation.hold_reason})
            else:
                messages.success(request, _("補償を記録しました。"))
            return redirect("cases:detail", pk=pk)
    return _rerender(request, case, compensation_form=form)


@login_required
def approvals(request: HttpRequest) -> HttpResponse:
    """Requests waiting for this user: a lead sees their team's, an admin all (a case of no team
    is decided by the admins only). Each row shows what is already granted on the case and to the
    customer over the period, and the totals if approved; the buttons only where this user may
    decide, else why not. A constant number of queries whatever the number of rows."""
    user = staff_user(request)
    if not queues.sees_approvals(user):
        raise PermissionDenied
    pending = queues.approvals_for(user).select_related("case", "requested_by")
    rows = list(pending.order_by("created_at")[:200])
    refusal = decision_refusals(user)
    totals = authority.exposures_for_queue(rows)
    for comp in rows:
        exposure = totals[comp.pk]
        comp.exposure = exposure  # type: ignore[attr-defined]
        comp.case_total_if_approved = exposure.case_granted + comp.amount_yen  # type: ignore[attr-defined]
        comp.customer_total_if_approved = exposure.customer_granted + comp.amount_yen  # type: ignore[attr-defined]
        comp.refusal = refusal(comp.amount_yen, comp.requested_by_id, exposure.if_approved(comp.amount_yen))  # type: ignore[attr-defined]
    period_days = next(iter(totals.values())).period_days if totals else 0
    return render(request, "cases/approvals.html", {"pending": rows, "period_days": period_days})


@login_required
@require_POST
def compensation_decide(request: HttpRequest, compensation_id: int) -> HttpResponse:
    user = staff_user(request)
    compensation = get_object_or_404(Compensation, pk=compensation_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("承認か却下を選んでください。"))
        return redirect("cases:approvals")
    try:
        services.do_decide_compensation(compensation, actor=user, approve=form.cleaned_data["decision"] == "approve",
                                        note=form.cleaned_data["note"])
    except services.CaseError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("判断を記録しました。"))
    if not queues.sees_approvals(user):  # the approvals page is not theirs: show why on the case
        return redirect("cases:detail", pk=compensation.case_id)
    return redirect("cases:approvals")


@login_required
@require_POST
def case_merge(request: HttpRequest, pk: int) -> HttpResponse:
    """「案件を統合」: this case into another open case of the same customer; then its page."""
    case = page.load_case(pk)
    form = MergeForm(request.POST, prefix="mg", candidates=services.merge_candidates(case))
    if form.is_valid():
        target = Case.objects.filter(pk=form.cleaned_data["target_pk"]).first()
        if target is None:
            form.add_error(None, _("案件 #%(pk)s は見つかりません。") % {"pk": form.cleaned_data["target_pk"]})
        else:
            try:
                services.do_merge_cases(case, target, actor=staff_user(request))
            except services.CaseError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("案件 %(source)s を案件 %(target)s に統合しました。間違えた場合は「統合を取り消す」で元に戻せます。")
                                 % {"source": case.number, "target": target.number})
                return redirect("cases:detail", pk=target.pk)
    return _rerender(request, page.load_case(pk), merge_form=form)


@login_required
@require_POST
def merge_undo(request: HttpRequest, record_id: int) -> HttpResponse:
    """「統合を取り消す」 on the target's page: the source comes back as it was."""
    record = get_object_or_404(MergeRecord.objects.select_related("source", "target"), pk=record_id)
    try:
        services.do_undo_merge(record, actor=staff_user(request))
    except services.CaseError as error:
        messages.error(request, str(error))
        return redirect(reverse("cases:detail", args=[record.target_id]))
    messages.success(request, _("統合を取り消しました。案件 #%(source)s を元に戻しました。") % {"source": record.source_id})
    return redirect("cases:detail", pk=record.source_id)


@login_required
@require_POST
def case_link(request: HttpRequest, pk: int) -> HttpResponse:
    """「関連する案件をリンク」: the same incident, shown on both pages, not merged."""
    case = page.load_case(pk)
    form = LinkForm(request.POST, prefix="ln")
    if form.is_valid():
        other = Case.objects.filter(pk=form.cleaned_data["number"]).first()
        if other is None:
            form.add_error("number", _("案件 #%(pk)s は見つかりません。") % {"pk": form.cleaned_data["number"]})
        else:
            try:
                services.do_link_cases(case, other, actor=staff_user(request), note=form.cleaned_data["note"])
            except services.CaseError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("案件 %(other)s を関連する案件としてリンクしました。") % {"other": other.number})
                return redirect("cases:detail", pk=pk)
    return _rerender(request, case, link_form=form)


@login_required
@require_POST
def case_unlink(request: HttpRequest, pk: int, link_id: int) -> HttpResponse:
    link = CaseLink.objects.filter(Q(case_a_id=pk) | Q(case_b_id=pk), pk=link_id).first()
    if link is None:
        messages.error(request, _("このリンクはすでに外されています。"))
        return redirect("cases:detail", pk=pk)
    try:
        services.do_unlink_cases(link, actor=staff_user(request))
    except services.CaseError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("関連する案件のリンクを外しました。"))
    return redirect("cases:detail", pk=pk)
