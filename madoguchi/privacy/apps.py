from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "madoguchi.privacy"
    label = "privacy"
    verbose_name = "個人データ"
