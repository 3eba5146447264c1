from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "madoguchi.knowledge"
    label = "knowledge"
    verbose_name = "ナレッジ"

    def ready(self) -> None:
        from madoguchi.cases import page, views
        from madoguchi.cases import services as desk
        from madoguchi.knowledge import macros, receivers, services

        receivers.connect()
        if "suggestions" not in page.CASE_PAGE_RELATED:  # the page reads the stored suggestions loaded with the case
            page.CASE_PAGE_RELATED.append("suggestions")
        page.CASE_PAGE_EXISTS["customer_flags"] = services.flags_of_page_case  # the rules panel's 要注意 flags
        if services.flagged_customers not in views.INBOX_CUSTOMER_MARKS:
            views.INBOX_CUSTOMER_MARKS.append(services.flagged_customers)
        if macros.apply_after_reply not in desk.REPLY_ACTIONS:
            desk.REPLY_ACTIONS.append(macros.apply_after_reply)
