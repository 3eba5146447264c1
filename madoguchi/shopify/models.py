"""Shopify webhooks as they arrived: the raw body is stored before anything else (as mail keeps
its bytes), then a queued task processes it. Shopify may deliver one webhook more than once
(same X-Shopify-Webhook-Id): the id is unique here, so a redelivery is stored and processed once."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("未処理")
    DONE = "done", _("処理済み")
    IGNORED = "ignored", _("対象外")
    FAILED = "failed", _("処理できず")


class WebhookDelivery(models.Model):
    webhook_id = models.CharField(_("Webhook ID"), max_length=100, unique=True)
    topic = models.CharField(_("トピック"), max_length=60)
    shop_domain = models.CharField(_("ショップ"), max_length=255, blank=True)
    body = models.BinaryField(_("受信した本文"))
    received_at = models.DateTimeField(_("受信日時"), default=timezone.now, db_index=True)
    state = models.CharField(_("状態"), max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveIntegerField(_("処理した回数"), default=0)
    processed_at = models.DateTimeField(_("処理日時"), null=True, blank=True)
    error = models.TextField(_("エラー"), blank=True)

    class Meta:
        verbose_name = _("Shopify の Webhook")
        verbose_name_plural = _("Shopify の Webhook")
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["state", "received_at"], name="shopify_webhook_pending")]

    def __str__(self) -> str:
        return f"{self.topic} {self.webhook_id}"


class Discount(models.Model):
    """The Shopify discount code made for one coupon (issue 18: never two for one coupon).
    `create_sent_at` is written (and committed) before discountCodeBasicCreate is sent: a try
    after that (a lost answer, a worker killed) first asks Shopify for the code and takes the
    discount it finds instead of creating another."""

    coupon = models.OneToOneField("coupons.Coupon", on_delete=models.CASCADE, related_name="shopify_discount",
                                  verbose_name=_("クーポン"))
    discount_id = models.CharField(_("Shopify の割引ID"), max_length=200, blank=True)
    create_sent_at = models.DateTimeField(_("作成を依頼した日時"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("試した回数"), default=0)
    created_at = models.DateTimeField(_("作成日時"), null=True, blank=True)
    # One worker at a time works on a coupon (the first try and an agent's retry may meet).
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Shopify の割引コード")
        verbose_name_plural = _("Shopify の割引コード")

    def __str__(self) -> str:
        return self.discount_id or f"coupon {self.coupon_id}"
