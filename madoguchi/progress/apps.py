from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgressConfig(AppConfig):
    name = "madoguchi.progress"
    label = "progress"
    verbose_name = _("お客様向けの進捗ページ")

    def ready(self) -> None:
        from madoguchi.cases import page
        from madoguchi.cases import views as case_views
        from madoguchi.cases.services import MERGE_MOVES
        from madoguchi.cases.templatetags.desk import AUDIT_LABELS
        from madoguchi.mail import outbound
        from madoguchi.progress import services

        # The receipt mail carries the case's status page (mail never imports this app).
        outbound.ACK_LINES.append(services.ack_line)
        services.SHOP_NAMES.append(lambda case: getattr(outbound.mailbox_for(case), "shop_name", ""))
        AUDIT_LABELS.update(services.AUDIT_LABELS)
        # The case page's panel asks whether there is a link or a notice with the case (cases.page).
        page.CASE_PAGE_EXISTS["progress_link"] = services.live_links_of_page_case
        page.CASE_PAGE_EXISTS["progress_notices"] = services.drafts_of_page_case
        # A merged case's late notices go with its promises (and come back on undo).
        MERGE_MOVES.append(("progress.LateNotice", "case"))
        # The inbox's 「承認を待っています」 banner is counted with the queue badges.
        if ("late_notices", services.drafts_of) not in case_views.INBOX_COUNTS:
            case_views.INBOX_COUNTS.append(("late_notices", services.drafts_of))
