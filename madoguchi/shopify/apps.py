from django.apps import AppConfig


class ShopifyConfig(AppConfig):
    name = "madoguchi.shopify"
    label = "shopify"
    verbose_name = "Shopify"

    def ready(self) -> None:
        from madoguchi.shop import sync
        from madoguchi.shop.models import OrderSource
        from madoguchi.shopify import client, tasks

        sync.register(sync.Connection(platform=str(OrderSource.SHOPIFY), label="Shopify", configured=client.configured,
                                      queue_sync=lambda: tasks.shopify_sync_task()))
