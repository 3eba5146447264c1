from django.apps import AppConfig


class FansConfig(AppConfig):
    name = "madoguchi.fans"
    label = "fans"
    verbose_name = "ファンと取り戻したいお客様"

    def ready(self) -> None:
        from madoguchi.fans import receivers

        receivers.connect()
