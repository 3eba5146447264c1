from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "madoguchi.api"
    label = "api"
    verbose_name = _("API と Webhook")

    def ready(self) -> None:
        from madoguchi.api import webhooks

        webhooks.connect()
