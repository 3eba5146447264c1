"""The admins' pages for orders: importing order files (/settings/orders/import/) and the live
connections to shop platforms (/settings/orders/sync/)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts.access import staff_user
from madoguchi.accounts.views import admin_required
from madoguchi.shop import sync
from madoguchi.shop.forms import OrderFileForm
from madoguchi.shop.models import ImportRun, ImportRunState, Order, Product, SyncState
from madoguchi.shop.order_files import OrderFileError
from madoguchi.shop.uploads import do_queue_upload

RECENT_RUNS = 20


def upload_page(request: HttpRequest, *, form_class: Any, queue_upload: Any, unreadable: type[Exception], runs: Any,
                run_url: str, template: str) -> HttpResponse:
    """A file import's page (orders here, listening's posts): the upload form, checked and queued
    for the worker (the reason in Japanese when the file cannot be read), and the recent runs."""
    form = form_class(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            run = queue_upload(form.cleaned_data["file"], staff_user(request))
        except unreadable as error:
            form.add_error("file", str(error))
        else:
            return redirect(run_url, run.pk)
    recent = runs.select_related("user").order_by("-created_at")[:RECENT_RUNS]
    return render(request, template, {"form": form, "runs": recent}, status=400 if form.errors else 200)


def run_page(request: HttpRequest, run: Any, template: str, fragment: str) -> HttpResponse:
    """One run: the whole page, or (htmx, while it runs) the part that polls for the result."""
    context = {"run": run, "pending": run.state in (ImportRunState.QUEUED, ImportRunState.RUNNING)}
    return render(request, fragment if getattr(request, "htmx", False) else template, context)


@admin_required
def import_page(request: HttpRequest) -> HttpResponse:
    return upload_page(request, form_class=OrderFileForm, queue_upload=do_queue_upload, unreadable=OrderFileError,
                       runs=ImportRun.objects.all(), run_url="shop:import_run", template="shop/import_orders.html")


@admin_required
def import_run(request: HttpRequest, pk: int) -> HttpResponse:
    return run_page(request, get_object_or_404(ImportRun.objects.select_related("user"), pk=pk),
                    "shop/import_run.html", "shop/_import_run.html")


@admin_required
def sync_page(request: HttpRequest) -> HttpResponse:
    states = {state.platform: state for state in SyncState.objects.filter(platform__in=list(sync.CONNECTIONS))}
    connections = []
    for connection in sync.CONNECTIONS.values():
        action_label, action_url = connection.action()
        connections.append({
            "platform": connection.platform, "label": connection.label, "configured": connection.configured(),
            "state": states.get(connection.platform), "action_label": action_label, "action_url": action_url,
            "orders": Order.objects.filter(source=connection.platform).count(),
            "products": Product.objects.filter(source=connection.platform).count(),
        })
    return render(request, "shop/sync.html", {"connections": connections})


@admin_required
@require_POST
def sync_now(request: HttpRequest, platform: str) -> HttpResponse:
    connection = sync.CONNECTIONS.get(platform)
    if connection is None:
        raise Http404
    if not connection.configured():
        messages.error(request, _("%(platform)s の接続が設定されていないため、同期できません。") % {"platform": connection.label})
    else:
        connection.queue_sync()
        messages.success(request, _("%(platform)s の同期を予約しました。数分以内に反映されます。") % {"platform": connection.label})
    return redirect("shop:sync")
