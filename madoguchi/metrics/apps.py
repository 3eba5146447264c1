from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "madoguchi.metrics"
    label = "metrics"
    verbose_name = "指標"
