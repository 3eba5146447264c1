from django.apps import AppConfig


class CouponsConfig(AppConfig):
    name = "madoguchi.coupons"
    label = "coupons"
    verbose_name = "クーポン"

    def ready(self) -> None:
        from madoguchi.cases import page
        from madoguchi.cases.signals import compensation_decided
        from madoguchi.coupons import receivers, services

        compensation_decided.connect(receivers.issue_when_approved, dispatch_uid="coupons-approved")
        page.CASE_PAGE_EXISTS["coupons"] = services.coupons_of_page_case  # the panel's list, asked with the case
