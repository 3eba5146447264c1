from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "madoguchi.chat"
    label = "chat"
    verbose_name = "チャット"
