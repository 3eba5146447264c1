from django.apps import AppConfig


class PatternsConfig(AppConfig):
    """Complaint patterns (issue 20 item 2): similar complaints grouped into clusters, their
    weekly counts and rate per 1,000 orders, spikes flagged to the team leads, and the
    dashboard's breakdowns by product, passage and carrier."""

    name = "madoguchi.patterns"
    label = "patterns"
    verbose_name = "苦情の傾向"

    def ready(self) -> None:
        from madoguchi.metrics import views as metrics_views
        from madoguchi.patterns import receivers, tasks  # noqa: F401  (registers the jobs and the work handler)
        from madoguchi.patterns.views import dashboard_panel

        receivers.connect()
        if dashboard_panel not in metrics_views.DASHBOARD_PANELS:
            metrics_views.DASHBOARD_PANELS.append(dashboard_panel)
