from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "madoguchi.notifications"
    label = "notifications"
    verbose_name = "通知"

    def ready(self) -> None:
        from madoguchi.cases import signals
        from madoguchi.notifications import mailing

        signals.interaction_added.connect(mailing.on_interaction_added, dispatch_uid="notifications.mail_reply")
