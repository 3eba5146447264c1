from django.apps import AppConfig


class ShopifyConfig(AppConfig):
    name = "madoguchi.shopify"
    label = "shopify"
    verbose_name = "Shopify"

    def ready(self) -> None:
        from madoguchi.coupons.signals import coupon_issued, coupon_platform_retry
        from madoguchi.shop import sync
        from madoguchi.shop.models import OrderSource
        from madoguchi.shopify import client, discounts, tasks, webhooks

        sync.register(sync.Connection(platform=str(OrderSource.SHOPIFY), label="Shopify", configured=client.configured,
                                      queue_sync=lambda: tasks.shopify_sync_task(), action=webhooks.action))
        coupon_issued.connect(discounts.on_coupon_issued, dispatch_uid="shopify-discount")
        coupon_platform_retry.connect(discounts.on_coupon_issued, dispatch_uid="shopify-discount-retry")
