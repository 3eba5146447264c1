"""The API's pages: each person's tokens (/settings/me/api/) and the admins' webhooks
(/settings/webhooks/), with every delivery and its attempts."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.accounts import audit
from madoguchi.accounts.access import staff_user
from madoguchi.accounts.models import SettingsSource
from madoguchi.accounts.views import admin_required
from madoguchi.api import tokens, webhooks
from madoguchi.api.forms import EndpointForm, TokenForm
from madoguchi.api.models import ApiToken, WebhookAttempt, WebhookDelivery, WebhookEndpoint

DELIVERIES_SHOWN = 50


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    form = TokenForm(request.POST or None)
    new_token = ""
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                _row, new_token = tokens.do_create_token(user, name=form.cleaned_data["name"], scope=form.cleaned_data["scope"],
                                                         resources=form.cleaned_data["resources"])
            except tokens.TokenError as error:
                form.add_error(None, str(error))
                status = 400
            else:
                form = TokenForm()
        else:
            status = 400
    rows = ApiToken.objects.filter(user=user)
    return render(request, "api/tokens.html", {"form": form, "tokens": rows, "new_token": new_token}, status=status)


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(ApiToken, pk=pk, user=staff_user(request))
    tokens.do_revoke_token(row)
    messages.success(request, _("トークン「%(name)s」を無効にしました。") % {"name": row.name})
    return redirect("api_tokens:list")


def _webhooks_page(request: HttpRequest, form: EndpointForm, status: int = 200, secret: str = "") -> HttpResponse:
    endpoints = list(WebhookEndpoint.objects.order_by("pk"))
    deliveries = list(WebhookDelivery.objects.select_related("endpoint").order_by("-pk")[:DELIVERIES_SHOWN])
    attempts: dict[int, list[WebhookAttempt]] = {}
    for row in WebhookAttempt.objects.filter(delivery__in=deliveries).order_by("delivery_id", "number"):
        attempts.setdefault(row.delivery_id, []).append(row)
    for delivery in deliveries:
        delivery.attempt_rows = attempts.get(delivery.pk, [])  # type: ignore[attr-defined]
    return render(request, "api/webhooks.html", {
        "form": form, "endpoints": endpoints, "deliveries": deliveries, "secret": secret,
        "max_attempts": settings.WEBHOOK_MAX_ATTEMPTS,
    }, status=status)


@admin_required
def webhook_list(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _webhooks_page(request, EndpointForm(initial={"active": True}))
    form = EndpointForm(request.POST)
    if not form.is_valid():
        return _webhooks_page(request, form, status=400)
    secret = webhooks.new_secret()
    with transaction.atomic():
        endpoint = form.save(commit=False)
        endpoint.secret_encrypted = webhooks.seal(secret)
        endpoint.created_by = staff_user(request)
        endpoint.save()
        audit.record_saved(request.user, endpoint, None, source=SettingsSource.SETTINGS)
    messages.success(request, _("送信先を登録しました。署名の鍵はこの画面でだけ表示します。受信側に設定してください。"))
    return _webhooks_page(request, EndpointForm(initial={"active": True}), secret=secret)


@admin_required
@require_POST
def webhook_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    before = audit.snapshot(endpoint)
    with transaction.atomic():
        endpoint.active = not endpoint.active
        endpoint.save(update_fields=["active"])
        audit.record_saved(request.user, endpoint, before, source=SettingsSource.SETTINGS)
    messages.success(request, _("送信先を使用中にしました。") if endpoint.active else _("送信先を停止しました。"))
    return redirect("webhooks:list")


@admin_required
@require_POST
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    before, pk = audit.snapshot(endpoint), endpoint.pk
    with transaction.atomic():
        endpoint.delete()
        audit.record_deleted(request.user, endpoint, before, pk, source=SettingsSource.SETTINGS)
    messages.success(request, _("送信先を削除しました。"))
    return redirect("webhooks:list")

