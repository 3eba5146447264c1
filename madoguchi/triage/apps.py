from django.apps import AppConfig


class TriageConfig(AppConfig):
    """Reading each customer message: kind, category, anger and what it is about."""

    name = "madoguchi.triage"
    label = "triage"
    verbose_name = "メッセージの読み取り"

    def ready(self) -> None:
        from madoguchi.triage import receivers

        receivers.connect()
