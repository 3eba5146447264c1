from django.contrib import admin

from madoguchi.accounts.admin_audit import ReadOnlyAdmin
from madoguchi.shopify.models import Discount, WebhookDelivery


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """What Shopify sent: read only (it is what happened)."""

    list_display = ("received_at", "topic", "webhook_id", "state", "attempts", "processed_at")
    list_filter = ("state", "topic")
    exclude = ("body",)


@admin.register(Discount)
class DiscountAdmin(ReadOnlyAdmin):
    """The Shopify discount made for each coupon: read only (Shopify holds it)."""

    list_display = ("coupon", "discount_id", "create_sent_at", "attempts", "created_at")
    search_fields = ("coupon__code", "discount_id")
