from django.apps import AppConfig


class LineConfig(AppConfig):
    name = "madoguchi.line"
    label = "line"
    verbose_name = "LINE"

    def ready(self) -> None:
        from madoguchi.cases import automatic, page, services, signals
        from madoguchi.cases.models import Channel
        from madoguchi.line import outbound, quick, receivers, timeline

        services.DELIVERED_CHANNELS.add(Channel.LINE)
        automatic.REACHES[Channel.LINE] = outbound.reaches_by_line
        page.TIMELINE_EXTRAS[Channel.LINE] = timeline.line_parts
        signals.interaction_added.connect(receivers.on_interaction_added, dispatch_uid="line.reply")
        if quick.attach_quick_replies not in services.REPLY_ACTIONS:
            services.REPLY_ACTIONS.append(quick.attach_quick_replies)

        # What goes with a case merged into another (cases.services.do_merge_cases).
        if ("line.LineOutbound", "case") not in services.MERGE_MOVES:
            services.MERGE_MOVES.append(("line.LineOutbound", "case"))
