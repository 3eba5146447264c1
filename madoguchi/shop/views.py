"""The admins' page for importing order files (/settings/orders/import/)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from madoguchi.accounts.access import staff_user
from madoguchi.accounts.views import admin_required
from madoguchi.shop.forms import OrderFileForm
from madoguchi.shop.models import ImportRun, ImportRunState
from madoguchi.shop.order_files import OrderFileError
from madoguchi.shop.uploads import do_queue_upload

RECENT_RUNS = 20


@admin_required
def import_page(request: HttpRequest) -> HttpResponse:
    form = OrderFileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            run = do_queue_upload(form.cleaned_data["file"], staff_user(request))
        except OrderFileError as error:
            form.add_error("file", str(error))
        else:
            return redirect("shop:import_run", run.pk)
    runs = ImportRun.objects.select_related("user").order_by("-created_at")[:RECENT_RUNS]
    return render(request, "shop/import_orders.html", {"form": form, "runs": runs}, status=400 if form.errors else 200)


@admin_required
def import_run(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(ImportRun.objects.select_related("user"), pk=pk)
    context = {"run": run, "pending": run.state in (ImportRunState.QUEUED, ImportRunState.RUNNING)}
    if getattr(request, "htmx", False):
        return render(request, "shop/_import_run.html", context)
    return render(request, "shop/import_run.html", context)
