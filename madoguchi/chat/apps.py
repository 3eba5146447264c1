from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "madoguchi.chat"
    label = "chat"
    verbose_name = "チャット"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from madoguchi.cases import automatic, services, signals
        from madoguchi.cases.models import Channel
        from madoguchi.chat import receivers, widget_settings
        from madoguchi.chat.models import WidgetSettings

        post_save.connect(widget_settings.forget, sender=WidgetSettings, dispatch_uid="chat.widget_settings.save")
        post_delete.connect(widget_settings.forget, sender=WidgetSettings, dispatch_uid="chat.widget_settings.delete")

        services.DELIVERED_CHANNELS.add(Channel.CHAT)
        automatic.REACHES[Channel.CHAT] = receivers.reaches
        signals.interaction_added.connect(receivers.deliver_composer_reply, dispatch_uid="chat.composer_reply")
        if receivers.reply_channel not in services.REPLY_CHANNEL_RESOLVERS:
            services.REPLY_CHANNEL_RESOLVERS.append(receivers.reply_channel)

        # What goes with a case merged into another (cases.services.do_merge_cases).
        if ("chat.FormAttachment", "case") not in services.MERGE_MOVES:
            services.MERGE_MOVES.append(("chat.FormAttachment", "case"))
        if ("chat.Feedback", "case") not in services.MERGE_MOVES:
            services.MERGE_MOVES.append(("chat.Feedback", "case"))
        if ("chat.ChatSession", "case") not in services.MERGE_MOVES_ONE:
            services.MERGE_MOVES_ONE.append(("chat.ChatSession", "case"))
