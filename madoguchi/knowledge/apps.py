from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "madoguchi.knowledge"
    label = "knowledge"
    verbose_name = "ナレッジ"

    def ready(self) -> None:
        from madoguchi.knowledge import receivers

        receivers.connect()
