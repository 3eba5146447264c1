"""What the shop's visitors reach: the widget script, its uploads and offline form, and the
embeddable contact and feedback forms.

None of these views trusts a cookie: the widget's authority is its session token, and the
forms carry a signed stamp (spam.py), so they are CSRF-exempt on purpose and can live in a
shop's iframe (X-Frame-Options off for them alone, CSP frame-ancestors = allowed origins).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from madoguchi import addresses
from madoguchi.cases.services import CaseError
from madoguchi.chat import events, public, services, spam, uploads, widget_settings
from madoguchi.chat.forms import ContactForm, FeedbackForm, OfflineMessageForm
from madoguchi.chat.models import ChatUpload, FormAttachment
from madoguchi.chat.routing import widget_origins

MAX_FORM_FILES = 3


def _client_address(request: HttpRequest) -> str:
    """The sender of a public form (behind a proxy, its last hop: else every sender would share
    the proxy's address and its hourly limit)."""
    return addresses.client_address(request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_X_FORWARDED_FOR", "")) or "unknown"


def _cors(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    origin = request.headers.get("Origin", "")
    if origin and origin in widget_origins():
        response["Access-Control-Allow-Origin"] = origin
    response["Vary"] = "Origin"
    return response


def _origin_allowed(request: HttpRequest) -> bool:
    origin = request.headers.get("Origin")
    return origin is None or origin in widget_origins()


@lru_cache(maxsize=1)
def _widget_source() -> bytes:
    return (Path(__file__).parent / "static" / "chat" / "widget.js").read_bytes()


def widget_js(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(_widget_source(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return response


def _json_error(request: HttpRequest, message: str, status: int = 400) -> HttpResponse:
    return _cors(request, JsonResponse({"ok": False, "error": message}, status=status))


@csrf_exempt
@require_POST
def widget_upload(request: HttpRequest) -> HttpResponse:
    if not _origin_allowed(request):
        return _json_error(request, "このサイトからは送れません。", 403)
    try:
        session = services.get_live_session(request.POST.get("token"))
        file = request.FILES.get("file")
        content_type = uploads.check(file)
        assert file is not None
        name = uploads.safe_name(file.name or "")
        with transaction.atomic():
            upload = ChatUpload.objects.create(session=session, file=file, name=name, content_type=content_type, size=file.size or 0)
            posted = services.do_customer_message(
                session, client_id=request.POST.get("client_id", ""), text=f"［ファイル］{name}", upload=upload
            )
            if posted.created:
                events.publish_session(session.pk, "message", message=services.message_payload(posted.message))
    except (services.ChatError, uploads.UploadRefused, CaseError) as error:
        return _json_error(request, str(error))
    return _cors(request, JsonResponse({"ok": True, "message": services.message_payload(posted.message)}))


def widget_file(request: HttpRequest, upload_id: int) -> FileResponse:
    """A chat file, for the visitor who holds the session's token or for a signed-in agent."""
    upload = get_object_or_404(ChatUpload.objects.select_related("session"), pk=upload_id)
    if not (request.user.is_authenticated or request.GET.get("token") == upload.session.token):
        raise Http404
    return _file_response(upload)


@login_required
def form_attachment(request: HttpRequest, attachment_id: int) -> FileResponse:
    return _file_response(get_object_or_404(FormAttachment, pk=attachment_id))


def _file_response(stored: Any) -> FileResponse:
    response = FileResponse(
        stored.file.open("rb"), content_type=stored.content_type, as_attachment=not stored.is_image, filename=stored.name
    )
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@csrf_exempt
@require_POST
def widget_offline(request: HttpRequest) -> HttpResponse:
    if not _origin_allowed(request):
        return _json_error(request, "このサイトからは送れません。", 403)
    form = OfflineMessageForm(request.POST)
    if not form.is_valid():
        return _json_error(request, "メールアドレスとお問い合わせ内容を入力してください（内容は5,000文字まで）。")
    try:
        spam.take_rate(_client_address(request), "offline")
        case = public.do_leave_message(**form.cleaned_data)
    except (spam.Refused, CaseError) as error:
        return _json_error(request, str(error), 429 if isinstance(error, spam.Refused) else 400)
    message = f"メッセージを受け付けました（受付番号 {case.number}）。メールでお返事します。"
    return _cors(request, JsonResponse({"ok": True, "message": message, "case": case.number}))


def _embeddable(response: HttpResponse) -> HttpResponse:
    """The desk's policy (settings.CONTENT_SECURITY_POLICY), but framed by the shop's sites."""
    response._csp_replace = {"frame-ancestors": ["'self'", *widget_settings.current().allowed_origins]}  # type: ignore[attr-defined]
    return response


def _public_form(request: HttpRequest, form_class: Any, template: str, save: Any, bucket: str) -> HttpResponse:
    done = None
    if request.method == "POST":
        form = form_class(request.POST, request.FILES)
        try:
            if spam.is_bot(request.POST):
                done = "received"  # tell a bot nothing; store nothing
            elif form.is_valid():
                spam.check_stamp(form.cleaned_data["stamp"])
                spam.take_rate(_client_address(request), bucket)
                done = save(request, form.cleaned_data)
        except (spam.Refused, uploads.UploadRefused, CaseError) as error:
            form.add_error(None, str(error))
        if done is None:
            form.data = form.data.copy()
            form.data["stamp"] = spam.stamp()  # a fresh stamp, so fixing the form is not "too old"
    else:
        form = form_class(initial={"stamp": spam.stamp(), "page_url": request.GET.get("from", "")[:1000]})
    status = 400 if request.method == "POST" and done is None else 200
    response = render(request, template, {"form": form, "done": done, "honeypot": spam.HONEYPOT}, status=status)
    return _embeddable(response)


def _save_contact(request: HttpRequest, data: dict[str, Any]) -> str:
    files = request.FILES.getlist("attachments")
    if len(files) > MAX_FORM_FILES:
        raise uploads.UploadRefused(f"添付できるファイルは{MAX_FORM_FILES}つまでです。")
    checked = [(f, uploads.check(f)) for f in files]
    case = public.do_contact(
        name=data["name"], email=data["email"], category=data["category"], order_number=data["order_number"],
        message=data["message"], files=checked,
    )
    return case.number


def _save_feedback(request: HttpRequest, data: dict[str, Any]) -> str:
    feedback = public.do_feedback(
        rating=data["rating"], comment=data["comment"], email=data["email"] or "",
        order_number=data["order_number"], page_url=data["page_url"],
    )
    return feedback.case.number if feedback.case else "received"


@csrf_exempt
@xframe_options_exempt
def contact_form(request: HttpRequest) -> HttpResponse:
    return _public_form(request, ContactForm, "chat/contact_form.html", _save_contact, "contact")


@csrf_exempt
@xframe_options_exempt
def feedback_form(request: HttpRequest) -> HttpResponse:
    return _public_form(request, FeedbackForm, "chat/feedback_form.html", _save_feedback, "feedback")
