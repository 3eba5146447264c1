from django.contrib import admin

from madoguchi.accounts.admin_audit import ReadOnlyAdmin
from madoguchi.shopify.models import WebhookDelivery


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """What Shopify sent: read only (it is what happened)."""

    list_display = ("received_at", "topic", "webhook_id", "state", "attempts", "processed_at")
    list_filter = ("state", "topic")
    exclude = ("body",)
