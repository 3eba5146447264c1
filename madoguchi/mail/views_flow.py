"""Pages of replies held back (approval, a time to send) and of forwards to other departments.
Thin: the rules are in mail.held and mail.forwarding; a refused form comes back with the input."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts.access import staff_user
from madoguchi.cases.models import Case
from madoguchi.cases.services import CaseError
from madoguchi.mail import forwarding, held
from madoguchi.mail.forms import ForwardForm, HeldEditForm, ReturnForm
from madoguchi.mail.models import HeldReply


def _held(pk: int) -> HeldReply:
    return get_object_or_404(HeldReply.objects.select_related("case", "author", "case__team"), pk=pk)


@login_required
def approvals(request: HttpRequest) -> HttpResponse:
    """返信の承認: the replies waiting for this lead's (or admin's) approval, oldest first."""
    user = staff_user(request)
    waiting = list(held.awaiting_for(user).select_related("case", "author", "case__customer").order_by("created_at", "pk")[:100])
    for row in waiting:
        _show_replies_since(row)
    rows = [(row, ReturnForm(prefix=f"rt{row.pk}", initial={"version": row.version})) for row in waiting]
    return render(request, "mail/approvals.html", {"rows": rows, "may_decide": user.is_lead or user.is_admin})


def _show_replies_since(row: HeldReply) -> None:
    """The replies sent since the hold, shown above the approve button, which then says the lead
    has seen up to the newest of them."""
    row.replies_since = held.replies_since(row)  # type: ignore[attr-defined]
    row.seen_up_to = max((reply.pk for reply in row.replies_since), default=0)  # type: ignore[attr-defined]


@login_required
@require_POST
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    row = _held(pk)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = None
    try:
        seen: int | None = int(request.POST.get("seen", ""))
    except ValueError:
        seen = None
    try:
        done = held.do_approve(row, actor=staff_user(request), expected_version=version, seen_up_to=seen)
    except CaseError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("返信を承認しました。") + (_("予定の日時に送信します。") if done.state == "scheduled" else _("送信します。")))
    if request.POST.get("back") == "case":
        return redirect("cases:detail", pk=row.case_id)
    return redirect("mail:approvals")


@login_required
@require_POST
def return_reply(request: HttpRequest, pk: int) -> HttpResponse:
    row = _held(pk)
    form = ReturnForm(request.POST, prefix=f"rt{row.pk}")
    if form.is_valid():
        try:
            held.do_return(row, actor=staff_user(request), comment=form.cleaned_data["comment"],
                           expected_version=form.cleaned_data["version"])
        except CaseError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("返信を差し戻しました。書いた人に通知しました。"))
            return redirect("mail:approvals")
    return render(request, "mail/approvals.html", {"rows": [(row, form)], "may_decide": True}, status=400)


@login_required
def held_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change (or resubmit) a reply that has not gone; a refused change keeps what was typed."""
    row = _held(pk)
    user = staff_user(request)
    form = HeldEditForm(request.POST, prefix=f"hr{row.pk}") if request.method == "POST" else HeldEditForm.for_held(row)
    if request.method == "POST" and form.is_valid():
        try:
            done = held.do_edit(row, actor=user, body=form.cleaned_data["body"], cc=form.cc_list, bcc=form.bcc_list,
                                send_at=form.send_time, expected_version=form.cleaned_data["version"])
        except CaseError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, {
                "awaiting": _("返信を承認に出しました。"), "scheduled": _("送信予定の返信を変更しました。"),
                "sent": _("返信を送信しました。"),
            }.get(done.state, _("返信を変更しました。")))
            return redirect("cases:detail", pk=row.case_id)
    return render(request, "mail/held_edit.html", {"row": row, "form": form, "may_edit": held.may_edit(user, row)},
                  status=400 if form.errors else 200)


@login_required
@require_POST
def held_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    row = _held(pk)
    try:
        held.do_cancel(row, actor=staff_user(request))
    except CaseError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("送信前の返信を取り消しました。お客様には送られません。"))
    return redirect("cases:detail", pk=row.case_id)


@login_required
def forward(request: HttpRequest, pk: int) -> HttpResponse:
    """他部署に転送: the case's forwards and the form (opened on the case page by htmx, or as a
    page of its own after a refused post, with the input as typed)."""
    case = get_object_or_404(Case.objects.select_related("customer"), pk=pk)
    form = ForwardForm(request.POST or None, prefix="fw")
    if request.method == "POST" and form.is_valid():
        try:
            forwarding.do_forward(case, actor=staff_user(request), note=form.cleaned_data["note"], to_address=form.to_address,
                                  department=form.cleaned_data["department"])
        except CaseError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("%(to)s に転送しました。案件は「他部署の回答待ち」になりました。") % {"to": form.to_address})
            return redirect("cases:detail", pk=case.pk)
    # htmx asks for the form alone when the case page's 「他部署に転送」 is opened.
    template = "mail/_forward_form.html" if request.headers.get("HX-Request") else "mail/forward.html"
    return render(request, template, {"case": case, "form": form, "forwards": forwarding.forwards_of(case)},
                  status=400 if form.errors else 200)
