"""The desk's X actions on a reply: 再送 (a failed one) and DMで送る (one held as a public reply)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.x_account import outbound
from madoguchi.x_account.models import XOutbound


def _back(request: HttpRequest, case_id: int) -> HttpResponse:
    target = reverse("cases:detail", args=[case_id])
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return redirect(target)


@login_required
@require_POST
def retry(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(XOutbound, pk=pk)
    with transaction.atomic():
        outbound.do_retry(row)
    messages.success(request, _("Xのメッセージをもう一度送信します。"))
    return _back(request, row.case_id)


@login_required
@require_POST
def send_by_dm(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(XOutbound.objects.select_related("case"), pk=pk)
    with transaction.atomic():
        problem = outbound.do_send_by_dm(row)
    if problem:
        messages.error(request, problem)
    else:
        messages.success(request, _("この返信をDMで送信します。"))
    return _back(request, row.case_id)
