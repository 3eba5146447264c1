from django.apps import AppConfig


class BaseShopConfig(AppConfig):
    name = "madoguchi.base_shop"
    label = "base_shop"
    verbose_name = "BASE"

    def ready(self) -> None:
        from django.urls import reverse
        from django.utils.translation import gettext as _

        from madoguchi.base_shop import client, tasks
        from madoguchi.shop import sync
        from madoguchi.shop.models import OrderSource

        def action() -> tuple[str, str]:
            if not client.configured():
                return "", ""
            label = _("BASE に接続し直す") if client.authorised() else _("BASE に接続する")
            return str(label), reverse("base_shop:connect")

        sync.register(sync.Connection(platform=str(OrderSource.BASE), label="BASE", configured=client.authorised,
                                      queue_sync=lambda: tasks.base_sync_task(), action=action))
