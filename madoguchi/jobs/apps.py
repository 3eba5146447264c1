from django.apps import AppConfig


class JobsConfig(AppConfig):
    """Background jobs: every app's Huey tasks registered in every process, the run log of
    each job, and work recorded with its cause and done until done (`work.py`)."""

    name = "madoguchi.jobs"
    label = "jobs"
    verbose_name = "バックグラウンド処理"

    def ready(self) -> None:
        from madoguchi.jobs import registry

        registry.discover()
