"""The LINE official account channel (issue 19): what LINE sent, raw, before anything else;
the LINE users behind customers; the files they sent; and the messages the desk sends.

The desk (cases) never imports this app: it hears of replies through `interaction_added` and
shows delivery state and unsent marks through `cases.page.TIMELINE_EXTRAS`."""

from __future__ import annotations

import uuid

from cryptography.fernet import InvalidToken
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from madoguchi.sealed import fernet


def _fernet():  # type: ignore[no-untyped-def]
    return fernet("madoguchi.line.account")


class LineAccount(models.Model):
    """A LINE official account beyond the first (whose secret and token come from the
    environment): added by an admin on /settings/line/, with its own webhook address
    `/line/webhook/<id>/`. The channel secret and access token are kept encrypted (a key of
    their own derived from SECRET_KEY), and masked in the settings audit."""

    name = models.CharField(_("名前"), max_length=100)
    channel_secret_encrypted = models.TextField(blank=True)
    access_token_encrypted = models.TextField(blank=True)
    active = models.BooleanField(_("有効"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("LINE公式アカウント")
        verbose_name_plural = _("LINE公式アカウント")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name

    def set_secrets(self, channel_secret: str = "", access_token: str = "") -> None:
        """Set what is given; an empty value keeps what is stored."""
        if channel_secret:
            self.channel_secret_encrypted = _fernet().encrypt(channel_secret.encode()).decode()
        if access_token:
            self.access_token_encrypted = _fernet().encrypt(access_token.encode()).decode()

    def _open(self, sealed: str) -> str:
        try:
            return _fernet().decrypt(sealed.encode()).decode() if sealed else ""
        except InvalidToken:
            return ""  # SECRET_KEY changed: the admin enters them again

    @property
    def channel_secret(self) -> str:
        return self._open(self.channel_secret_encrypted)

    @property
    def access_token(self) -> str:
        return self._open(self.access_token_encrypted)


class LineQuota(models.Model):
    """The month's message quota of an account as LINE last reported it (the hourly job, or an
    admin's 「今すぐ確認」): pushes count against it, replies by reply token do not."""

    # None: the first account (from the environment).
    account = models.ForeignKey(LineAccount, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    limited = models.BooleanField(default=True)
    limit = models.PositiveIntegerField(null=True, blank=True)
    used = models.PositiveIntegerField(null=True, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("LINEの月間メッセージ数")
        verbose_name_plural = _("LINEの月間メッセージ数")

    def __str__(self) -> str:
        return f"{self.account or 'LINE'}: {self.used}/{self.limit}"

    @property
    def left(self) -> int | None:
        return max(0, self.limit - self.used) if self.limited and self.limit is not None and self.used is not None else None

    @property
    def share(self) -> int | None:
        """Percent of the month's quota used."""
        return round(100 * self.used / self.limit) if self.limited and self.limit and self.used is not None else None


class LineUser(models.Model):
    """One LINE user of the official account: a customer identity (kind `line`) with what the
    profile API told of them."""

    user_id = models.CharField(max_length=64, unique=True)
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="line_users")
    display_name = models.CharField(_("LINEの表示名"), max_length=200, blank=True)
    picture_url = models.CharField(_("プロフィール画像"), max_length=1000, blank=True)  # https, from LINE
    profile_fetched_at = models.DateTimeField(null=True, blank=True)
    # Set by an unfollow (the user blocked the account): pushes cannot reach them any more.
    blocked_at = models.DateTimeField(_("ブロックされた日時"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("LINEユーザー")
        verbose_name_plural = _("LINEユーザー")

    def __str__(self) -> str:
        return self.display_name or self.user_id


class LineRawEvent(models.Model):
    """One webhook event exactly as LINE sent it (its JSON text), stored by the webhook before
    it answers; the worker files it on a case afterwards. A redelivered event (same
    webhookEventId) is stored once."""

    # The account it came through; None: the first account (from the environment).
    account = models.ForeignKey(LineAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    webhook_event_id = models.CharField(max_length=64, unique=True)
    event_type = models.CharField(_("種類"), max_length=30)
    user_id = models.CharField(max_length=64, blank=True)
    raw = models.TextField(_("受信した内容"))
    occurred_at = models.DateTimeField(_("日時"))
    received_at = models.DateTimeField(_("受信日時"), auto_now_add=True)
    is_redelivery = models.BooleanField(default=False)
    # The LINE message id (message and unsend events), to find what an unsend takes back.
    message_id = models.CharField(max_length=64, blank=True, db_index=True)
    reply_token = models.CharField(max_length=255, blank=True)
    reply_token_used_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(_("エラー"), blank=True)
    interaction = models.OneToOneField(
        "cases.Interaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="line_event"
    )
    # Set on a message event when the user took it back (an unsend event); the raw stays.
    unsent_at = models.DateTimeField(_("送信取り消し日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("LINE受信イベント")
        verbose_name_plural = _("LINE受信イベント")
        indexes = [models.Index(fields=["user_id", "-occurred_at"], name="line_event_user")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.webhook_event_id}"


def content_path(instance: LineAttachment, filename: str) -> str:
    return f"line/{instance.event.message_id[-2:] or '00'}/{instance.event.message_id or instance.event_id}"


class LineAttachment(models.Model):
    """A file (image, video, audio, file) a LINE user sent, fetched from the content API."""

    event = models.OneToOneField(LineRawEvent, on_delete=models.CASCADE, related_name="attachment")
    file = models.FileField(upload_to=content_path, max_length=300, blank=True)
    filename = models.CharField(_("ファイル名"), max_length=255)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(_("サイズ"), default=0)
    error = models.CharField(_("エラー"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("LINEの添付ファイル")
        verbose_name_plural = _("LINEの添付ファイル")

    def __str__(self) -> str:
        return self.filename


class OutboundState(models.TextChoices):
    PENDING = "pending", _("送信待ち")
    SENDING = "sending", _("送信中")
    SENT = "sent", _("送信済み")
    FAILED = "failed", _("送信できませんでした")


class LineOutbound(models.Model):
    """An agent's reply on a LINE case. One row per reply (OneToOne), sent by the worker; a push
    carries `retry_key` as X-Line-Retry-Key, so LINE delivers it once however often it is tried."""

    interaction = models.OneToOneField("cases.Interaction", on_delete=models.CASCADE, related_name="line_outbound")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="line_outbounds")
    to_user_id = models.CharField(max_length=64, blank=True)
    # The account it goes out through (the one the customer wrote to); None: the first account.
    account = models.ForeignKey(LineAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    # Labels of the quick-reply buttons sent under the text (from the reply's template).
    quick_replies = models.JSONField(_("クイックリプライ"), default=list, blank=True)
    retry_key = models.UUIDField(default=uuid.uuid4, unique=True)
    # The reply token used (once an attempt used one, later attempts keep to it or push).
    reply_token = models.CharField(max_length=255, blank=True)
    method = models.CharField(max_length=10, blank=True)  # "reply" or "push", once sent
    state = models.CharField(_("状態"), max_length=10, choices=OutboundState.choices, default=OutboundState.PENDING)
    attempts = models.PositiveIntegerField(_("送信回数"), default=0)
    last_error = models.TextField(_("最後のエラー"), blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(_("送信日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("LINE送信メッセージ")
        verbose_name_plural = _("LINE送信メッセージ")
        indexes = [models.Index(fields=["next_attempt_at"], name="line_outbound_due",
                                condition=Q(state__in=["pending", "sending"]))]

    def __str__(self) -> str:
        return f"{self.get_state_display()} → {self.to_user_id}"
