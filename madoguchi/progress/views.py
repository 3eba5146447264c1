"""The customer's status page (public, no login) and the desk's buttons for links and notices."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts.access import staff_user
from madoguchi.accounts.throttle import client_address
from madoguchi.cases.models import Case
from madoguchi.cases.services import CaseError
from madoguchi.progress import services
from madoguchi.progress.forms import LateNoticeForm
from madoguchi.progress.models import LateNotice


def _private(response: HttpResponse) -> HttpResponse:
    """Never indexed, cached or leaked through a Referer: the URL is the key."""
    response["X-Robots-Tag"] = "noindex, nofollow, noarchive"
    response["Cache-Control"] = "no-store, private"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _within_rate(request: HttpRequest) -> bool:
    key = f"madoguchi:status-page:{client_address(request)}"
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=3600)
        count = 1
    return bool(count <= settings.PROGRESS_PAGE_PER_ADDRESS_PER_HOUR)


def status_page(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's page: in Japanese (the shop's customers; the page is marked lang="ja")."""
    with translation.override("ja"):
        return _status_page(request, token)


def _status_page(request: HttpRequest, token: str) -> HttpResponse:
    if not _within_rate(request):
        return _private(render(request, "progress/unavailable.html", {
            "message": _("アクセスが集中しています。しばらく時間をおいてから、もう一度お開きください。")}, status=429))
    link = services.link_from_token(token)
    if link is None:
        return _private(render(request, "progress/unavailable.html", {
            "message": _("このページは見つかりませんでした。リンクの有効期限が切れたか、新しいリンクに切り替わった可能性があります。"
                         "お手数ですが、お届けしたメールにご返信いただくか、お問い合わせ窓口までご連絡ください。")}, status=404))
    services.do_note_view(link)
    return _private(render(request, "progress/status_page.html", {"view": services.public_view(services.shown_case(link))}))


def _back(pk: int) -> HttpResponse:
    return redirect(reverse("cases:detail", args=[pk]) + "#progress")


@login_required
@require_POST
def link_make(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(Case, pk=pk)
    services.do_get_link(case, actor=staff_user(request))
    return _back(pk)


@login_required
@require_POST
def link_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(Case.objects.select_related("team"), pk=pk)
    renew = request.POST.get("renew") == "1"
    try:
        services.do_revoke_links(case, actor=staff_user(request), renew=renew)
    except CaseError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("新しいリンクを作りました。前のリンクはもう開けません。") if renew
                         else _("リンクを無効にしました。お客様はもう開けません。"))
    return _back(pk)


@login_required
def notices(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    return render(request, "progress/notices.html", {"drafts": services.drafts_for(user)})


def _notice(notice_id: int) -> LateNotice:
    return get_object_or_404(LateNotice.objects.select_related("case__team", "commitment"), pk=notice_id)


@login_required
@require_POST
def notice_send(request: HttpRequest, notice_id: int) -> HttpResponse:
    notice = _notice(notice_id)
    form = LateNoticeForm(request.POST, prefix=f"ln{notice.pk}")
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return _back(notice.case_id)
    try:
        services.do_send_late_notice(notice, actor=staff_user(request), new_due_at=form.cleaned_data["new_due_at"],
                                     body=form.cleaned_data["body"])
    except CaseError as error:
        messages.error(request, str(error))
    else:
        if services.delivered(notice.case):
            messages.success(request, _("遅れのお知らせをお客様に送りました。"))
        else:
            messages.warning(request, _("遅れのお知らせを記録しました。この窓口からは送れないため、お電話などでお伝えください。"))
    return _back(notice.case_id)


@login_required
@require_POST
def notice_dismiss(request: HttpRequest, notice_id: int) -> HttpResponse:
    notice = _notice(notice_id)
    try:
        services.do_dismiss_late_notice(notice, actor=staff_user(request))
    except CaseError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("このお知らせは送らないことにしました。"))
    return _back(notice.case_id)
