from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "madoguchi.chat"
    label = "chat"
    verbose_name = "チャット"

    def ready(self) -> None:
        from madoguchi.cases import signals
        from madoguchi.chat import receivers

        signals.interaction_added.connect(receivers.deliver_composer_reply, dispatch_uid="chat.composer_reply")
