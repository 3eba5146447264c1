"""Shopify's webhooks (/shopify/webhook/): signature checked, raw body stored, answered at once;
a queued task does the work (Shopify wants an answer within seconds and retries otherwise)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from madoguchi.accounts.views import admin_required
from madoguchi.shop.platform_http import PlatformError
from madoguchi.shopify import services, webhooks

log = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    body = request.body
    if not services.signature_ok(body, request.headers.get("X-Shopify-Hmac-Sha256", ""),
                                 settings.MADOGUCHI_SHOPIFY_WEBHOOK_SECRET):
        log.warning("shopify: webhook refused, its signature does not match (topic %s)",
                    request.headers.get("X-Shopify-Topic", "")[:60])
        return JsonResponse({"error": "invalid_signature", "message": "署名（X-Shopify-Hmac-Sha256）が正しくありません。"},
                            status=401)
    delivery = services.do_store_delivery(
        webhook_id=request.headers.get("X-Shopify-Webhook-Id", ""), topic=request.headers.get("X-Shopify-Topic", ""),
        shop_domain=request.headers.get("X-Shopify-Shop-Domain", ""), body=body)
    if delivery is not None:
        from madoguchi.shopify.tasks import process_webhook_task

        transaction.on_commit(lambda: process_webhook_task(delivery.pk))
    return JsonResponse({"ok": True})


@admin_required
@require_POST
def register_webhooks(request: HttpRequest) -> HttpResponse:
    """「Webhook を登録」on /settings/orders/sync/: the topics the desk needs, subscribed once."""
    try:
        outcome = webhooks.register()
    except PlatformError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, outcome.message())
    return redirect("shop:sync")
