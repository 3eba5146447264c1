from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShopConfig(AppConfig):
    name = "madoguchi.shop"
    label = "shop"
    verbose_name = "商品と注文"

    def ready(self) -> None:
        from madoguchi.cases import page, signals
        from madoguchi.cases.templatetags.desk import AUDIT_LABELS
        from madoguchi.shop import desk

        if "shop_link" not in page.CASE_PAGE_RELATED:  # the order card reads the case's shop row with the case
            page.CASE_PAGE_RELATED.append("shop_link")
        AUDIT_LABELS.update({
            "order_linked": _("注文をリンク"),
            "order_linked_other_customer": _("別のお客様の注文をリンク"),
            "order_auto_linked": _("注文を自動でリンク"),
            "order_auto_link_undone": _("自動リンクを取り消し"),
            "order_unlinked": _("注文のリンクを解除"),
        })
        signals.interaction_added.connect(desk.on_interaction, dispatch_uid="shop-auto-link")
