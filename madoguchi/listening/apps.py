from django.apps import AppConfig


class ListeningConfig(AppConfig):
    name = "madoguchi.listening"
    label = "listening"
    verbose_name = "ソーシャルの声"
