from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "madoguchi.mail"
    label = "mail"
    verbose_name = "メール"
