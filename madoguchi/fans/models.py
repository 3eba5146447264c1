"""Per-customer figures (orders, spending, cases) kept as one summary row per customer, and
the admin's rule for who is a fan (SPEC §10, seeds 003 and 004).

The row is derived: `figures.recompute` rebuilds it from the orders and cases whenever they
change, so the fans and win-back lists are index range scans over this table, whatever the
number of customers, orders or cases."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class CustomerFigures(models.Model):
    customer = models.OneToOneField("customers.Customer", on_delete=models.CASCADE, primary_key=True,
                                    related_name="figures", verbose_name=_("お客様"))
    # Orders that count as purchases: paid or shipped, not cancelled, not refunded in full.
    order_count = models.PositiveIntegerField(_("注文回数"), default=0)
    # Money kept: amount − refunds of every order not cancelled.
    spent_yen = models.BigIntegerField(_("購入金額（返金後）"), default=0)
    first_order_at = models.DateTimeField(_("初回注文"), null=True, blank=True)
    last_order_at = models.DateTimeField(_("最終注文"), null=True, blank=True)
    case_count = models.PositiveIntegerField(_("案件数"), default=0)
    complaint_count = models.PositiveIntegerField(_("苦情の数"), default=0)
    open_complaint_count = models.PositiveIntegerField(_("対応中の苦情"), default=0)
    # When the customer's latest complaint was resolved (resolved or closed cases only).
    last_resolved_at = models.DateTimeField(_("苦情の解決日時"), null=True, blank=True)
    # Case id of that complaint, for the win-back list's link.
    last_resolved_case_id = models.PositiveIntegerField(null=True, blank=True)
    # Under the current FanRule, leaving recency aside (applied when the list is read):
    # never complained, at least the minimum orders and spending.
    is_fan = models.BooleanField(_("ファン"), default=False)
    # A complaint was resolved, none is open, and no order came after the resolution.
    win_back = models.BooleanField(_("取り戻したいお客様"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("お客様の数字")
        verbose_name_plural = _("お客様の数字")
        indexes = [
            # The fans list, newest purchase first (keyset pages; recency is the index range).
            models.Index(fields=["-last_order_at", "-customer"], name="fans_recent", condition=Q(is_fan=True)),
            # The win-back list, longest waiting first.
            models.Index(fields=["last_resolved_at", "customer"], name="fans_win_back", condition=Q(win_back=True)),
        ]

    def __str__(self) -> str:
        return str(self.customer_id)


class FanRule(models.Model):
    """The admin's RFM rule (one row, pk=1): a fan ordered within `recency_days`, at least
    `min_orders` times, for at least `min_spent_yen` in all, and never complained."""

    recency_days = models.PositiveIntegerField(_("最終購入からの日数（以内）"), default=365)
    min_orders = models.PositiveIntegerField(_("購入回数（以上）"), default=2)
    min_spent_yen = models.PositiveIntegerField(_("購入金額の合計（円以上）"), default=0)
    # Categories of cases that are questions rather than complaints (お問い合わせ): such a case
    # does not stop a customer from being a fan.
    not_complaints = models.ManyToManyField("cases.Category", blank=True, related_name="+",
                                            verbose_name=_("苦情に数えない分類"))

    class Meta:
        verbose_name = _("ファンの条件")
        verbose_name_plural = _("ファンの条件")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
