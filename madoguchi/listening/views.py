"""The listening queue (every staff member), its actions, and the import of post files (leads
and admins). Thin: the work is in services.py, importer.py and spikes.py."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts.access import staff_user
from madoguchi.fans.views import lead_required
from madoguchi.listening import services
from madoguchi.listening.forms import AnswerForm, PostFileForm, QueueFilterForm
from madoguchi.listening.models import PostImport, PostState, Spike
from madoguchi.listening.posts import PostFileError
from madoguchi.listening.uploads import do_queue_upload
from madoguchi.shop.views import run_page, upload_page
from madoguchi.triage.models import MessageKind

SPIKES_SHOWN_HOURS = 24


def _cursor(text: str) -> tuple[dt.datetime, int] | None:
    at, _sep, pk = text.partition("_")
    try:
        moment = dt.datetime.fromisoformat(at)
        return (moment, int(pk)) if timezone.is_aware(moment) else None
    except ValueError:
        return None  # a cursor somebody edited: the first page


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("listening:queue")


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    state = data.get("state") or PostState.NEW
    filters = services.QueueFilter(kind=data.get("kind", ""), state="" if state == "all" else state,
                                   platform=data.get("platform", ""))
    rows, after = services.page(filters, _cursor(request.GET.get("cursor", "")))
    query = request.GET.copy()
    query.pop("cursor", None)
    kinds = dict(services.queue(services.QueueFilter(state=filters.state, platform=filters.platform))
                 .values_list("kind").annotate(n=Count("pk")).order_by())
    spikes = list(Spike.objects.filter(flagged_at__gte=timezone.now() - dt.timedelta(hours=SPIKES_SHOWN_HOURS))
                  .select_related("seen_by")[:10])
    return render(request, "listening/queue.html", {
        "form": form, "rows": rows, "query": query.urlencode(), "spikes": spikes,
        "next_cursor": f"{after[0].isoformat()}_{after[1]}" if after else "",
        "kinds": [(code, label, kinds.get(code, 0)) for code, label in MessageKind.choices],
        "noise_waiting": kinds.get(MessageKind.NOISE, 0) if filters.state == PostState.NEW else 0,
        "fans": services.fans() if filters.kind == MessageKind.PRAISE else [],
        "kind_choices": MessageKind.choices, "answer_form": AnswerForm(), "here": request.get_full_path(),
    })


def _act(request: HttpRequest, done: str, action: object) -> HttpResponse:
    try:
        action()  # type: ignore[operator]
    except services.ListeningError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return redirect(_back(request))


@login_required
@require_POST
def answered(request: HttpRequest, pk: int) -> HttpResponse:
    form = AnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("返信のメモは5,000文字、URLは500文字までです。"))
        return redirect(_back(request))
    return _act(request, _("返信済みにしました。"), lambda: services.do_mark_answered(
        pk, user=staff_user(request), note=form.cleaned_data["note"], reply_url=form.cleaned_data["reply_url"]))


@login_required
@require_POST
def turn_into_case(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        case = services.do_turn_into_case(pk, user=staff_user(request))
    except services.ListeningError as error:
        messages.error(request, str(error))
        return redirect(_back(request))
    messages.success(request, _("投稿を案件 #%(case)s にしました。") % {"case": case.pk})
    return redirect("cases:detail", case.pk)


@login_required
@require_POST
def dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, _("対応不要にしました。"),
                lambda: services.do_dismiss(pk, user=staff_user(request), note=request.POST.get("note", "")))


@login_required
@require_POST
def set_kind(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, _("種類を直しました。"),
                lambda: services.do_set_kind(pk, user=staff_user(request), kind=request.POST.get("kind", "")))


@login_required
@require_POST
def dismiss_noise(request: HttpRequest) -> HttpResponse:
    count = services.do_dismiss_noise(user=staff_user(request), platform=request.POST.get("platform", ""))
    messages.success(request, _("ノイズの投稿 %(count)s 件を対応不要にしました。") % {"count": count})
    return redirect(_back(request))


@login_required
@require_POST
def spike_seen(request: HttpRequest, pk: int) -> HttpResponse:
    with transaction.atomic():
        Spike.objects.filter(pk=pk, seen_at__isnull=True).update(seen_by=staff_user(request), seen_at=timezone.now())
    return redirect(_back(request))


@lead_required
def import_page(request: HttpRequest) -> HttpResponseBase:
    return upload_page(request, form_class=PostFileForm, queue_upload=do_queue_upload, unreadable=PostFileError,
                       runs=PostImport.objects.all(), run_url="listening:import_run", template="listening/import.html")


@lead_required
def import_run(request: HttpRequest, pk: int) -> HttpResponseBase:
    return run_page(request, get_object_or_404(PostImport.objects.select_related("user"), pk=pk),
                    "listening/import_run.html", "listening/_import_run.html")
