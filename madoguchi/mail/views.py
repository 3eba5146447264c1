"""Pages of the mail channel: mails that could not be read (with retry), downloads."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.db.models.functions import Length
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts import access_log, throttle
from madoguchi.accounts.models import AccessKind
from madoguchi.downloads import as_download
from madoguchi.mail.ingest import MailRejected, retry_raw_message
from madoguchi.mail.models import Attachment, OutboundMessage, RawMessage, RawState
from madoguchi.mail.outbound import do_retry_outbound

PAGE = 100


def _download(data: bytes | object, filename: str, content_type: str) -> HttpResponse:
    return as_download(HttpResponse(data, content_type=content_type), filename)


@login_required
def failed_list(request: HttpRequest) -> HttpResponse:
    # headers_only: kept without its body (over the size limit), so not retryable; read from the
    # lengths in the database, as the raw bytes themselves are not loaded for the list.
    headers_only = ExpressionWrapper(Q(size__gt=Length("raw")), output_field=BooleanField())
    failed = (RawMessage.objects.filter(state=RawState.FAILED).defer("raw", "html").annotate(headers_only=headers_only)
              .order_by("-received_at")[:PAGE])
    ignored = RawMessage.objects.filter(state=RawState.IGNORED).defer("raw", "html").order_by("-received_at")[:30]
    outbound = OutboundMessage.objects.filter(state__in=["failed", "bounced"]).select_related("case").order_by("-created_at")[:30]
    return render(request, "mail/failed.html", {"failed": failed, "ignored": ignored, "outbound": outbound})


@login_required
@require_POST
def raw_retry(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(RawMessage.objects.defer("raw"), pk=pk)
    try:
        with transaction.atomic():
            row = retry_raw_message(row.pk)
    except MailRejected as refused:
        messages.error(request, str(refused))
        return redirect("mail:failed")
    if row.state == RawState.PARSED and row.case_id:
        messages.success(request, _("メールを取り込みました。"))
        return redirect("cases:detail", pk=row.case_id)
    messages.error(request, _("もう一度試しましたが、取り込めませんでした。理由: %(error)s") % {"error": row.error})
    return redirect("mail:failed")


@login_required
def raw_download(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(RawMessage, pk=pk)
    access_log.record(AccessKind.EXPORT, address=throttle.client_address(request), detail=f"受信メール #{row.pk}（元のメール）")
    return _download(bytes(row.raw), f"mail-{row.pk}.eml", "message/rfc822")


@login_required
def attachment_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    attachment = get_object_or_404(Attachment, pk=pk)
    if attachment.too_large or not attachment.file:
        messages.error(request, _("この添付ファイルは大きすぎるため保存していません。元のメールをダウンロードして開いてください。"))
        return redirect("mail:failed") if attachment.raw_message.case_id is None else redirect("cases:detail", pk=attachment.raw_message.case_id)
    return as_download(FileResponse(attachment.file.open("rb"), content_type="application/octet-stream"), attachment.filename)


@login_required
@require_POST
def outbound_retry(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(OutboundMessage, pk=pk)
    with transaction.atomic():
        do_retry_outbound(row)
    messages.success(request, _("メールをもう一度送信します。"))
    return redirect("cases:detail", pk=row.case_id) if row.case_id else redirect("mail:failed")
