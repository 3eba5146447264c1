"""The shop authorises Madoguchi on BASE (OAuth 2 authorisation code): an admin starts it on the
sync page, BASE sends the browser back to /settings/orders/base/callback/ with a code."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts.access import staff_user
from madoguchi.accounts.views import admin_required
from madoguchi.base_shop import client
from madoguchi.shop.platform_http import PlatformError

SESSION_KEY = "base_oauth_state"


@admin_required
@require_POST
def connect(request: HttpRequest) -> HttpResponse:
    if not client.configured():
        messages.error(request, _("MADOGUCHI_BASE_CLIENT_ID と MADOGUCHI_BASE_CLIENT_SECRET が設定されていません。"))
        return redirect("shop:sync")
    state = secrets.token_urlsafe(24)
    request.session[SESSION_KEY] = state
    return redirect(client.authorisation_url(state))


@admin_required
def callback(request: HttpRequest) -> HttpResponse:
    expected = request.session.pop(SESSION_KEY, None)
    if not expected or not secrets.compare_digest(str(expected), request.GET.get("state", "")):
        messages.error(request, _("BASE からの戻りを確認できませんでした（state が一致しません）。もう一度接続してください。"))
        return redirect("shop:sync")
    code = request.GET.get("code", "")
    if not code:
        messages.error(request, _("BASE で接続が許可されませんでした。"))
        return redirect("shop:sync")
    try:
        client.do_authorise(code, staff_user(request))
    except PlatformError as error:
        messages.error(request, str(error))
        return redirect("shop:sync")
    messages.success(request, _("BASE に接続しました。注文と商品の同期を始めます。"))
    from madoguchi.base_shop.tasks import base_sync_task

    base_sync_task()
    return redirect("shop:sync")
