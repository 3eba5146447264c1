from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "madoguchi.exports"
    label = "exports"
    verbose_name = "書き出し"
