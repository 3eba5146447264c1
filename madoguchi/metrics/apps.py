from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "madoguchi.metrics"
    label = "metrics"
    verbose_name = "指標"

    def ready(self) -> None:
        from madoguchi.cases import page, signals
        from madoguchi.metrics import receivers, tasks  # noqa: F401  (registers the minute jobs)

        for relation in ("sla", "outcome", "survey"):  # the SLA banner and the side panel read them loaded with the case
            if relation not in page.CASE_PAGE_RELATED:
                page.CASE_PAGE_RELATED.append(relation)
        # The side panel's SLA breaches: asked with the case, read only when there are some.
        from django.db.models import OuterRef

        from madoguchi.metrics.models import SlaBreach

        page.CASE_PAGE_EXISTS["sla_breaches"] = lambda: SlaBreach.objects.filter(case=OuterRef("pk"))
        signals.case_created.connect(receivers.on_case_created, dispatch_uid="metrics-case-created")
        signals.interaction_added.connect(receivers.on_interaction, dispatch_uid="metrics-interaction")
        signals.case_status_changed.connect(receivers.on_status_changed, dispatch_uid="metrics-status")
