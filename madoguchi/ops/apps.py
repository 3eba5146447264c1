from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "madoguchi.ops"
    label = "ops"
    verbose_name = "運用"

    def ready(self) -> None:
        from madoguchi.ops import checks  # noqa: F401 - registers the checks
