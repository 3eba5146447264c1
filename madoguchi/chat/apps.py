from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "madoguchi.chat"
    label = "chat"
    verbose_name = "チャット"

    def ready(self) -> None:
        from django.conf import settings

        from madoguchi.cases import services, signals
        from madoguchi.chat import receivers
        from madoguchi.chat.layers import use_fast_in_memory_layer

        # The stock in-memory channel layer costs O(all sockets) per event (see chat/layers.py).
        use_fast_in_memory_layer(settings.CHANNEL_LAYERS)

        signals.interaction_added.connect(receivers.deliver_composer_reply, dispatch_uid="chat.composer_reply")
        if receivers.reply_channel not in services.REPLY_CHANNEL_RESOLVERS:
            services.REPLY_CHANNEL_RESOLVERS.append(receivers.reply_channel)
