"""The webhook LINE calls, and the desk's LINE pages (a file a customer sent, 再送)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from madoguchi.downloads import as_download
from madoguchi.line import ingest, outbound
from madoguchi.line import webhook as line_webhook
from madoguchi.line.models import LineAttachment, LineOutbound


def _text(body: str, status: int) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, account: int | None = None) -> HttpResponse:
    """Checks the signature, stores the events as sent and answers; the worker files them.
    Under `madoguchi serve` the same is done before Django (line/asgi.py), in batches.
    `account`: a LINE account added on /settings/line/ (none: the environment's)."""
    secret = line_webhook.channel_secret(account)
    refused = line_webhook.length_refused(request.headers.get("Content-Length"), secret)
    if refused is not None:
        return _text(refused.text, refused.status)
    verdict = line_webhook.check(request.body, request.headers.get("X-Line-Signature", ""), secret, account)
    if verdict.status == 200:
        ingest.save_events(verdict.rows)
    return _text(verdict.text, verdict.status)


@login_required
def attachment(request: HttpRequest, pk: int) -> HttpResponseBase:
    found = get_object_or_404(LineAttachment.objects.select_related("event__interaction"), pk=pk)
    if not found.file:
        messages.error(request, _("このファイルは保存していません。"))
        interaction = found.event.interaction
        return redirect("cases:detail", pk=interaction.case_id) if interaction else redirect("cases:inbox")
    return as_download(FileResponse(found.file.open("rb"), content_type="application/octet-stream"), found.filename)


@login_required
@require_POST
def retry(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(LineOutbound, pk=pk)
    with transaction.atomic():
        outbound.do_retry(row)
    messages.success(request, _("LINEのメッセージをもう一度送信します。"))
    target = reverse("cases:detail", args=[row.case_id])
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return redirect(target)
