from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

MAIL_AUDIT_LABELS = {
    "reply_held": _("返信を承認待ちに"),
    "reply_scheduled": _("返信の送信を予約"),
    "reply_approved": _("返信を承認"),
    "reply_returned": _("返信を差し戻し"),
    "reply_held_edited": _("送信前の返信を変更"),
    "reply_cancelled": _("送信前の返信を取り消し"),
    "forwarded": _("他部署に転送"),
}


class MailConfig(AppConfig):
    name = "madoguchi.mail"
    label = "mail"
    verbose_name = "メール"

    def ready(self) -> None:
        from madoguchi.cases import automatic, signals
        from madoguchi.cases import services as case_services
        from madoguchi.cases.models import Channel
        from madoguchi.cases.services import DELIVERED_CHANNELS, REPLY_FINISHERS, REPLY_OPTIONS
        from madoguchi.cases.templatetags.desk import AUDIT_LABELS
        from madoguchi.mail import outbound, receivers
        from madoguchi.mail.forms import ReplyMailOptions
        from madoguchi.notifications.mailing import KIND_OF
        from madoguchi.notifications.models import MailKind

        DELIVERED_CHANNELS.add(Channel.EMAIL)
        # The case page's held replies and sent mail: asked with the case, read only when there are some.
        from madoguchi.cases import page
        from madoguchi.mail import held

        page.CASE_PAGE_EXISTS["mail_held"] = held.open_of_page_case
        page.CASE_PAGE_EXISTS["mail_outbox"] = outbound.outbox_of_page_case
        # Issue 22 item 5: CC/BCC, approval and a time to send on the reply form; the audit
        # trail's words for held replies and forwards; approvals mailed as the 「承認」 kind.
        REPLY_OPTIONS[Channel.EMAIL] = ReplyMailOptions
        AUDIT_LABELS.update(MAIL_AUDIT_LABELS)
        KIND_OF.update({"reply_approval": MailKind.APPROVAL, "reply_approval_decided": MailKind.APPROVAL})
        REPLY_FINISHERS[Channel.EMAIL] = outbound.signed_reply
        automatic.REACHES[Channel.EMAIL] = outbound.reaches_by_mail
        signals.interaction_added.connect(receivers.on_interaction_added, dispatch_uid="mail.reply")

        # What goes with a case merged into another (cases.services.do_merge_cases).
        if ("mail.RawMessage", "case") not in case_services.MERGE_MOVES:
            case_services.MERGE_MOVES.append(("mail.RawMessage", "case"))
        if ("mail.OutboundMessage", "case") not in case_services.MERGE_MOVES:
            case_services.MERGE_MOVES.append(("mail.OutboundMessage", "case"))
