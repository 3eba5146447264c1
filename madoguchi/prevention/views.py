"""Root cause on the case page; countermeasures, their report (再発防止報告書) and its PDF."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts import access_log, audit, throttle
from madoguchi.accounts.access import staff_user
from madoguchi.accounts.models import AccessKind
from madoguchi.cases.models import Case
from madoguchi.cases.services import CaseError
from madoguchi.downloads import as_download
from madoguchi.exports.csvfile import dated_name
from madoguchi.exports.views import render_pdf
from madoguchi.patterns.models import Cluster
from madoguchi.prevention import chart, services
from madoguchi.prevention.forms import CountermeasureForm, RootCauseForm
from madoguchi.prevention.models import Countermeasure

RELATED = ("cluster__category", "cluster__product", "cluster__passage__product", "done_by", "category", "product", "passage__product", "rule", "article", "created_by")


def _save_cause(request: HttpRequest, save: Callable[..., Any], done: str) -> None:
    """A root-cause form posted (a case's or a cluster's): saved, or why not as a message."""
    form = RootCauseForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return
    try:
        save(actor=staff_user(request), cause=form.cleaned_data["cause"], note=form.cleaned_data["note"])
    except CaseError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)


@login_required
@require_POST
def root_cause(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(Case.objects.select_related("team"), pk=pk)
    _save_cause(request, partial(services.do_set_root_cause, case), _("根本原因を保存しました。"))
    return redirect(reverse("cases:detail", args=[pk]) + "#root-cause")


@login_required
@require_POST
def cluster_root_cause(request: HttpRequest, pk: int) -> HttpResponse:
    cluster = get_object_or_404(Cluster, pk=pk)
    _save_cause(request, partial(services.do_set_cluster_root_cause, cluster), _("まとまりの根本原因を保存しました。"))
    back = request.POST.get("next", "")
    return redirect(back if url_has_allowed_host_and_scheme(back, allowed_hosts=None) and back.startswith("/")
                    else reverse("patterns:cluster", args=[pk]))


@login_required
def index(request: HttpRequest) -> HttpResponse:
    rows = list(Countermeasure.objects.select_related(*RELATED)[:50])  # two grouped statements each
    today = timezone.localdate()
    items = [(c, services.effect_of(c, today)) for c in rows]
    return render(request, "prevention/index.html", {
        "items": items, "may_manage": services.may_manage_countermeasures(staff_user(request))})


def _initial_from_case(request: HttpRequest) -> dict[str, Any]:
    """A countermeasure started from a case's page takes its category, product, passage,
    carrier and root cause."""
    raw_cluster = request.GET.get("cluster", "")
    if raw_cluster.isdigit() and len(raw_cluster) < 18:
        found_cluster = Cluster.objects.filter(pk=int(raw_cluster)).select_related("root_cause").first()
        if found_cluster is not None:
            cause = getattr(found_cluster, "root_cause", None)
            return {"cluster": found_cluster.pk, "category": found_cluster.category_id, "product": found_cluster.product_id,
                    "passage": found_cluster.passage_id, "carrier": found_cluster.carrier, "done_on": timezone.localdate(),
                    **({"cause": cause.cause, "cause_note": cause.note} if cause else {})}
    raw = request.GET.get("case", "")
    if not raw.isdigit() or len(raw) >= 18:
        return {}
    case = Case.objects.select_related("order", "root_cause", "cluster_member").filter(pk=int(raw)).first()
    if case is None:
        return {}
    member = getattr(case, "cluster_member", None)
    initial: dict[str, Any] = {"cluster": member.cluster_id if member else None,"category": case.category_id, "product": case.product_id, "passage": case.passage_id,
                               "carrier": case.order.carrier if case.order_id and case.order else "",
                               "done_on": timezone.localdate()}
    found = getattr(case, "root_cause", None)
    if found is not None:
        initial.update(cause=found.cause, cause_note=found.note)
    return initial


def _edit(request: HttpRequest, countermeasure: Countermeasure | None) -> HttpResponse:
    user = staff_user(request)
    if not services.may_manage_countermeasures(user):
        raise PermissionDenied
    before = audit.snapshot(countermeasure) if countermeasure is not None else None
    if request.method == "POST":
        form = CountermeasureForm(request.POST, instance=countermeasure)
        if form.is_valid():
            try:
                saved = services.do_save_countermeasure(form.save(commit=False), actor=user, before=before)
            except CaseError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("再発防止策を保存しました。"))
                return redirect("prevention:report", saved.pk)
        status = 400
    else:
        form = CountermeasureForm(instance=countermeasure, initial=_initial_from_case(request) if countermeasure is None else None)
        status = 200
    return render(request, "prevention/form.html", {"form": form, "countermeasure": countermeasure}, status=status)


@login_required
def new(request: HttpRequest) -> HttpResponse:
    return _edit(request, None)


@login_required
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _edit(request, get_object_or_404(Countermeasure, pk=pk))


def _context(request: HttpRequest, pk: int) -> dict[str, Any]:
    countermeasure = get_object_or_404(Countermeasure.objects.select_related(*RELATED), pk=pk)
    found = services.report(countermeasure)
    return {
        "c": countermeasure, "report": found, "effect": found.effect, "links": services.link_labels(countermeasure),
        "chart": chart.before_after_svg(found.weeks, found.effect.per_orders),
        "may_manage": services.may_manage_countermeasures(staff_user(request)),
        "printed_at": timezone.localtime(),
    }


@login_required
def report(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "prevention/report.html", _context(request, pk))


@login_required
def report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    context = _context(request, pk)
    with translation.override(settings.LANGUAGE_CODE):
        access_log.record(AccessKind.EXPORT, user=staff_user(request), address=throttle.client_address(request),
                          detail=_("再発防止報告書 #%(pk)s の PDF") % {"pk": pk})
    pdf = render_pdf({**context, "request": request}, "prevention/report_pdf.html", "prevention/report.css")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Cache-Control"] = "no-store"
    return as_download(response, dated_name(f"prevention-{pk}", "pdf"))
