from django.apps import AppConfig


class CouponsConfig(AppConfig):
    name = "madoguchi.coupons"
    label = "coupons"
    verbose_name = "クーポン"

    def ready(self) -> None:
        from madoguchi.cases.signals import compensation_decided
        from madoguchi.coupons import receivers

        compensation_decided.connect(receivers.issue_when_approved, dispatch_uid="coupons-approved")
