from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "madoguchi.mail"
    label = "mail"
    verbose_name = "メール"

    def ready(self) -> None:
        from madoguchi.cases import automatic, signals
        from madoguchi.cases import services as case_services
        from madoguchi.cases.models import Channel
        from madoguchi.cases.services import DELIVERED_CHANNELS, REPLY_FINISHERS
        from madoguchi.mail import outbound, receivers

        DELIVERED_CHANNELS.add(Channel.EMAIL)
        REPLY_FINISHERS[Channel.EMAIL] = outbound.signed_reply
        automatic.REACHES[Channel.EMAIL] = outbound.reaches_by_mail
        signals.interaction_added.connect(receivers.on_interaction_added, dispatch_uid="mail.reply")

        # What goes with a case merged into another (cases.services.do_merge_cases).
        if ("mail.RawMessage", "case") not in case_services.MERGE_MOVES:
            case_services.MERGE_MOVES.append(("mail.RawMessage", "case"))
        if ("mail.OutboundMessage", "case") not in case_services.MERGE_MOVES:
            case_services.MERGE_MOVES.append(("mail.OutboundMessage", "case"))
