"""The agent's side over HTTP: the chat list, take, transfer, end (messages go by WebSocket)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.cases.services import CaseError
from madoguchi.chat import events, services
from madoguchi.chat.forms import TransferForm
from madoguchi.chat.models import ChatSession, SessionState


@login_required
def chat_list(request: HttpRequest) -> HttpResponse:
    active = ChatSession.objects.filter(state=SessionState.ACTIVE).select_related("case__customer", "taken_by").order_by("-taken_at")[:100]
    return render(request, "chat/list.html", {"waiting": services.waiting_sessions(), "active": active})


def _changed(session: ChatSession) -> None:
    session.refresh_from_db()
    events.publish_session(session.pk, "state", session=services.session_payload(session))
    events.publish_queue_changed()


@login_required
@require_POST
def take(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        session = services.do_take(pk, agent=request.user)  # type: ignore[arg-type]
    except (services.ChatError, CaseError) as error:
        messages.error(request, str(error))
        return redirect("cases:inbox")
    _changed(session)
    _publish_last_system_message(session)
    return redirect("cases:detail", session.case_id)


def _publish_last_system_message(session: ChatSession) -> None:
    last = services.last_message(session)
    if last is not None:
        events.publish_session(session.pk, "message", message=services.message_payload(last))


@login_required
@require_POST
def transfer(request: HttpRequest, pk: int) -> HttpResponse:
    session = get_object_or_404(ChatSession, pk=pk)
    form = TransferForm(request.POST)
    if not form.is_valid():
        messages.error(request, "転送先と引き継ぎメモを入力してください。")
        return redirect("cases:detail", session.case_id)
    try:
        services.do_transfer(
            session, actor=request.user, note=form.cleaned_data["note"],  # type: ignore[arg-type]
            to_user=form.cleaned_data["to_user"], to_team=form.cleaned_data["to_team"],
        )
    except (services.ChatError, CaseError) as error:
        messages.error(request, str(error))
        return redirect("cases:detail", session.case_id)
    _changed(session)
    _publish_last_system_message(session)
    messages.success(request, "チャットを転送しました。")
    return redirect("cases:detail", session.case_id)


@login_required
@require_POST
def end(request: HttpRequest, pk: int) -> HttpResponse:
    session = get_object_or_404(ChatSession, pk=pk)
    services.do_end(session, by=request.user)  # type: ignore[arg-type]
    _changed(session)
    _publish_last_system_message(session)
    if session.case is not None and services.reply_address(session.case):
        messages.success(request, _("チャットを終了しました。続きは案件ページからメールで返信できます。"))
    else:
        messages.success(request, _("チャットを終了しました。"))
    return redirect("cases:detail", session.case_id)
