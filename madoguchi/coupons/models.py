"""Coupons issued from a case as a compensation (SPEC §4, §10; seed 003: win back upset
customers). Each coupon is one entry of the compensation ledger (cases.Compensation, kind
クーポン), so it counts against the agent's authority and waits for the lead above it exactly
as any compensation does; its state follows that entry."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from madoguchi.figures import yen


class CouponKind(models.TextChoices):
    YEN = "yen", _("金額（円）")
    PERCENT = "percent", _("割引率（%）")


class PlatformState(models.TextChoices):
    NONE = "", _("ショップへの登録なし")
    PENDING = "pending", _("作成待ち")
    CREATED = "created", _("ショップに登録済み")
    FAILED = "failed", _("ショップへの登録に失敗")


class Coupon(models.Model):
    compensation = models.OneToOneField("cases.Compensation", on_delete=models.CASCADE, related_name="coupon",
                                        verbose_name=_("補償"))
    code = models.CharField(_("クーポンコード"), max_length=40, unique=True)
    kind = models.CharField(_("割引の種類"), max_length=10, choices=CouponKind.choices)
    # Yen for a fixed amount, percent for a rate.
    value = models.PositiveIntegerField(_("割引"))
    # The last day it can be used, in the shop's time zone (JST): valid until that day ends.
    expires_on = models.DateField(_("有効期限"))
    created_at = models.DateTimeField(auto_now_add=True)
    # What the shop platform app (e.g. Shopify) reported back.
    platform = models.CharField(_("ショップのシステム"), max_length=20, blank=True)
    platform_state = models.CharField(_("ショップへの登録"), max_length=10, choices=PlatformState.choices, blank=True)
    platform_id = models.CharField(_("ショップ側のID"), max_length=200, blank=True)
    platform_error = models.CharField(_("ショップからのエラー"), max_length=500, blank=True)
    platform_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("クーポン")
        verbose_name_plural = _("クーポン")

    def __str__(self) -> str:
        return self.code

    @property
    def discount_label(self) -> str:
        return yen(self.value) if self.kind == CouponKind.YEN else f"{self.value}%"

    def expired(self, today: dt.date | None = None) -> bool:
        return self.expires_on < (today or timezone.localdate())
