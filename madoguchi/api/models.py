"""API tokens (per user, scoped, revocable, kept only as a hash) and outbound webhooks
(endpoints an admin registers, each delivery and each attempt of it)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    READ = "read", _("読み取りのみ")
    WRITE = "write", _("読み取りと書き込み")


class Resource(models.TextChoices):
    CASES = "cases", _("案件")
    CUSTOMERS = "customers", _("お客様")
    ORDERS = "orders", _("注文")
    COMMITMENTS = "commitments", _("約束")
    COMPENSATIONS = "compensations", _("補償")
    ARTICLES = "articles", _("記事")


class ApiToken(models.Model):
    """A user's key to the API. The token itself is shown once, when it is made; only its
    SHA-256 is kept (a token is 256 random bits, so a fast hash is enough: nothing to guess)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens",
                             verbose_name=_("ユーザー"))
    name = models.CharField(_("名前"), max_length=100)
    prefix = models.CharField(_("先頭の文字"), max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    scope = models.CharField(_("権限"), max_length=10, choices=Scope.choices, default=Scope.READ)
    # Resources the token may reach; empty: all of them.
    resources = models.JSONField(_("対象"), default=list, blank=True)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最終利用日時"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("無効にした日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("API トークン")
        verbose_name_plural = _("API トークン")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class WebhookEvent(models.TextChoices):
    CASE_CREATED = "case.created", _("案件の登録")
    CASE_STATUS_CHANGED = "case.status_changed", _("案件の状態の変更")
    MESSAGE_ADDED = "message.added", _("やりとりの追加")
    PROMISE_OVERDUE = "promise.overdue", _("約束の期限超過")
    COMPENSATION_DECIDED = "compensation.decided", _("補償の決定")


class WebhookEndpoint(models.Model):
    url = models.URLField(_("送信先 URL"), max_length=500)
    events = models.JSONField(_("イベント"), default=list)
    # The signing secret, encrypted with a key derived from SECRET_KEY (unreadable in a dump).
    secret_encrypted = models.TextField()
    active = models.BooleanField(_("使用中"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("Webhook の送信先")
        verbose_name_plural = _("Webhook の送信先")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.url


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("送信待ち")
    DELIVERED = "delivered", _("送信済み")
    GAVE_UP = "gave_up", _("送信をあきらめた")


class WebhookDelivery(models.Model):
    """One event for one endpoint: tried until the receiver answers 2xx, or given up."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(_("イベント"), max_length=40, choices=WebhookEvent.choices)
    delivery_id = models.CharField(max_length=36, unique=True)  # the receiver's key against duplicates
    payload = models.JSONField()
    state = models.CharField(_("状態"), max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveIntegerField(_("試行回数"), default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("発生日時"), auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Webhook の送信")
        verbose_name_plural = _("Webhook の送信")
        indexes = [
            models.Index(fields=["next_attempt_at"], name="webhook_pending",
                         condition=models.Q(state="pending")),
            models.Index(fields=["endpoint", "-id"], name="webhook_endpoint_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id}"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField(_("回"))
    at = models.DateTimeField(_("日時"), auto_now_add=True)
    status_code = models.PositiveIntegerField(_("応答コード"), null=True, blank=True)
    response = models.TextField(_("応答（先頭のみ）"), blank=True)
    error = models.CharField(_("エラー"), max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(_("所要時間（ミリ秒）"), default=0)

    class Meta:
        verbose_name = _("Webhook の送信の試行")
        verbose_name_plural = _("Webhook の送信の試行")
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}: {self.status_code or self.error}"
