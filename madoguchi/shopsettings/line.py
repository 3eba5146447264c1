"""LINE公式アカウント (admins): the first account (from the environment) and the accounts
added here, each with its webhook address and its month's message quota as LINE reported it."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts.access import staff_user
from madoguchi.accounts.views import admin_required
from madoguchi.line import quota
from madoguchi.line.models import LineAccount, LineQuota
from madoguchi.shopsettings import services
from madoguchi.shopsettings.forms import LineAccountForm


def _page(request: HttpRequest, form: LineAccountForm, editing: LineAccount | None = None, status: int = 200) -> HttpResponse:
    accounts = list(LineAccount.objects.all())
    quotas = {row.account_id: row for row in LineQuota.objects.all()}
    site = settings.SITE_URL.rstrip("/")
    return render(request, "shopsettings/line.html", {
        "first": {"configured": bool(settings.LINE_CHANNEL_SECRET and settings.LINE_CHANNEL_ACCESS_TOKEN),
                  "webhook": site + reverse("line:webhook"), "quota": quotas.get(None)},
        "accounts": [(account, site + reverse("line:account_webhook", args=[account.pk]), quotas.get(account.pk))
                     for account in accounts],
        "form": form, "editing": editing,
    }, status=status)


@admin_required
def line_page(request: HttpRequest) -> HttpResponse:
    form = LineAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        account = services.do_save_line_account(staff_user(request), form)
        messages.success(request, _("LINE公式アカウント「%(name)s」を追加しました。LINE Developers の Webhook URL に下のアドレスを設定してください。")
                         % {"name": account.name})
        return redirect("shopsettings:line")
    return _page(request, form, status=400 if form.errors else 200)


@admin_required
def line_edit(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(LineAccount, pk=pk)
    form = LineAccountForm(request.POST or None, instance=account)
    if request.method == "POST" and form.is_valid():
        services.do_save_line_account(staff_user(request), form)
        messages.success(request, _("LINE公式アカウント「%(name)s」を保存しました。") % {"name": account.name})
        return redirect("shopsettings:line")
    return _page(request, form, editing=account, status=400 if form.errors else 200)


@admin_required
@require_POST
def line_quota(request: HttpRequest) -> HttpResponse:
    """「今すぐ確認」: ask LINE for every account's quota now."""
    if not quota.refresh_all():
        messages.warning(request, _("アクセストークンが設定されたLINE公式アカウントがありません。"))
    elif LineQuota.objects.exclude(error="").exists():
        messages.warning(request, _("一部のアカウントの月間メッセージ数を取得できませんでした。"))
    else:
        messages.success(request, _("月間メッセージ数を確認しました。"))
    return redirect("shopsettings:line")
