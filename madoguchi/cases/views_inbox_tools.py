"""Thin views of the inbox tools (issue 22 item 3): tags and custom fields on the case page
(htmx: the answer is the part again), bulk actions from the inbox, saved inbox views."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts.access import staff_user
from madoguchi.cases import bulk, labels, saved_views, services
from madoguchi.cases.models import Case, SavedView, Tag


def labels_context(case: Case, error: str = "", typed: dict[int, str] | None = None) -> dict[str, Any]:
    """The case page's 「タグ・独自項目」 part: one query whatever the number of tags and fields."""
    found = labels.case_labels(case)
    rows = found.fields
    if typed:  # a refused save shows what the agent typed, not the stored values
        rows = [labels.FieldRow(r.pk, r.label, r.kind, r.choices, typed.get(r.pk, r.value)) for r in rows]
    return {"case_tags": found.on_case, "tag_choices": found.others, "field_rows": rows, "labels_error": error}


def _labels_answer(request: HttpRequest, case: Case, error: str = "", done: str = "",
                   typed: dict[int, str] | None = None) -> HttpResponse:
    if request.htmx:  # type: ignore[attr-defined]
        context = {"case": case, "labels_done": done, **labels_context(case, error, typed)}
        return render(request, "cases/_case_labels.html", context)
    if error:
        messages.error(request, error)
    elif done:
        messages.success(request, done)
    return redirect("cases:detail", pk=case.pk)


@login_required
@require_POST
def case_tag(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(Case, pk=pk)
    tag = Tag.objects.filter(pk=request.POST.get("tag") or 0).first() if (request.POST.get("tag") or "").isdigit() else None
    if tag is None:
        return _labels_answer(request, case, error=_("追加するタグを選んでください。"))
    labels.do_tag_case(case, tag, actor=staff_user(request))
    return _labels_answer(request, case, done=_("タグ「%(tag)s」を追加しました。") % {"tag": tag.name})


@login_required
@require_POST
def case_untag(request: HttpRequest, pk: int, tag_id: int) -> HttpResponse:
    case = get_object_or_404(Case, pk=pk)
    tag = Tag.objects.filter(pk=tag_id).first()
    if tag is None or not labels.do_untag_case(case, tag, actor=staff_user(request)):
        return _labels_answer(request, case, error=_("このタグはすでに外されています。"))
    return _labels_answer(request, case, done=_("タグ「%(tag)s」を外しました。") % {"tag": tag.name})


@login_required
@require_POST
def case_fields(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(Case, pk=pk)
    typed = {int(key[2:]): str(request.POST.get(key, "")) for key in request.POST if key.startswith("f-") and key[2:].isdigit()}
    try:
        diff = labels.do_set_field_values(case, actor=staff_user(request), raw=typed)
    except services.CaseError as error:
        return _labels_answer(request, case, error=str(error), typed=typed)
    return _labels_answer(request, case, done=_("独自項目を保存しました。") if diff else _("変更はありませんでした。"))


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("cases:inbox")


@login_required
@require_POST
def bulk_action(request: HttpRequest) -> HttpResponse:
    """The inbox's bulk bar: the selected cases, one action; the result page says per case."""
    user = staff_user(request)
    action = request.POST.get("action", "")
    selection = bulk.parse_selection(request.POST.getlist("case"))
    try:
        outcomes = bulk.do_bulk(user, selection, action, request.POST.get(f"{action}_value", "").strip())
    except services.CaseError as refused:
        messages.error(request, str(refused))
        return redirect(_back(request))
    done = sum(1 for outcome in outcomes if outcome.ok)
    return render(request, "cases/bulk_result.html", {
        "outcomes": outcomes, "done": done, "refused": len(outcomes) - done, "back": _back(request),
    })


@login_required
@require_POST
def view_save(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    query = request.POST.get("query", "")
    try:
        view = saved_views.do_save_view(actor=user, name=request.POST.get("name", ""), query=query,
                                        shared=request.POST.get("shared") == "on")
    except services.CaseError as refused:
        messages.error(request, str(refused))
        return redirect(reverse("cases:inbox") + "?" + saved_views.clean_query(query))
    messages.success(request, _("ビュー「%(name)s」を保存しました。") % {"name": view.name})
    return redirect(reverse("cases:inbox") + "?" + urlencode({"view": view.pk}) + "&" + view.query)


@login_required
@require_POST
def view_delete(request: HttpRequest, view_id: int) -> HttpResponse:
    view = SavedView.objects.filter(pk=view_id).first()
    if view is None:
        messages.error(request, _("このビューはすでに削除されています。"))
        return redirect("cases:inbox")
    try:
        saved_views.do_delete_view(view, actor=staff_user(request))
    except services.CaseError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("ビュー「%(name)s」を削除しました。") % {"name": view.name})
    return redirect("cases:inbox")
