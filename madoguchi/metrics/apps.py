from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "madoguchi.metrics"
    label = "metrics"
    verbose_name = "指標"

    def ready(self) -> None:
        from madoguchi.cases import page, signals
        from madoguchi.metrics import receivers, tasks  # noqa: F401  (registers the minute jobs)

        if "sla" not in page.CASE_PAGE_RELATED:  # the SLA banner reads the clock loaded with the case
            page.CASE_PAGE_RELATED.append("sla")
        signals.case_created.connect(receivers.on_case_created, dispatch_uid="metrics-case-created")
        signals.interaction_added.connect(receivers.on_interaction, dispatch_uid="metrics-interaction")
        signals.case_status_changed.connect(receivers.on_status_changed, dispatch_uid="metrics-status")
