from django.apps import AppConfig


class XAccountConfig(AppConfig):
    name = "madoguchi.x_account"
    label = "x_account"
    verbose_name = "X"

    def ready(self) -> None:
        from madoguchi.cases import automatic, page, services, signals
        from madoguchi.cases.models import Channel
        from madoguchi.x_account import listening, outbound, receivers, timeline

        services.DELIVERED_CHANNELS.add(Channel.X)
        automatic.REACHES[Channel.X] = outbound.reaches_by_x
        page.TIMELINE_EXTRAS[Channel.X] = timeline.x_parts
        signals.interaction_added.connect(receivers.on_interaction_added, dispatch_uid="x_account.reply")
        if outbound.apply_route not in services.REPLY_ACTIONS:
            services.REPLY_ACTIONS.append(outbound.apply_route)
        # What goes with a case merged into another (cases.services.do_merge_cases).
        if ("x_account.XOutbound", "case") not in services.MERGE_MOVES:
            services.MERGE_MOVES.append(("x_account.XOutbound", "case"))
        # Social listening from X's recent search, through the listening app's source hook.
        listening.register()
