"""Mail channel data: mailboxes, every raw message as received, attachments, the outbox.

A RawMessage row is written with the exact bytes before anything else happens to a mail,
so a parse or database failure later never loses it (it shows on the 読み取れなかったメール page).
"""

from __future__ import annotations

import os
import re

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from madoguchi.sealed import fernet


def _fernet() -> Fernet:
    # A key of its own, derived from SECRET_KEY, so the password is unreadable in a DB dump.
    return fernet("madoguchi.mail.password")


PASSWORD_ENV_PREFIX = "MADOGUCHI_IMAP_"
_PASSWORD_ENV = re.compile(r"MADOGUCHI_IMAP_[A-Z0-9_]+")


def is_password_env_name(name: str) -> bool:
    """Only variables meant for IMAP passwords: a mailbox's IMAP host is chosen by whoever edits
    the mailbox, so any other name (SECRET_KEY, DATABASE_URL) would send that secret to them."""
    return bool(_PASSWORD_ENV.fullmatch(name))


def validate_password_env_name(name: str) -> None:
    if name and not is_password_env_name(name):
        raise ValidationError(
            _("環境変数名は MADOGUCHI_IMAP_ で始まる英大文字・数字・アンダースコアの名前にしてください（例: MADOGUCHI_IMAP_SUPPORT）。"),
            code="password_env",
        )


class Charset(models.TextChoices):
    UTF8 = "utf-8", _("UTF-8（推奨）")
    ISO2022JP = "iso-2022-jp", _("ISO-2022-JP（古いメールソフト向け）")


class ApprovalRule(models.TextChoices):
    FLAGGED = "flagged", _("「返信に承認が必要」とした担当者の返信だけ")
    AGENTS = "agents", _("担当者（リーダー・管理者以外）の返信すべて")
    NONE = "none", _("承認しない")


class Mailbox(models.Model):
    name = models.CharField(
        _("名前"), max_length=100,
        help_text=_("お客様へのメールの差出人名になります（例: こもれび堂 カスタマーサポート）。"),
    )
    address = models.EmailField(_("メールアドレス"), unique=True)
    active = models.BooleanField(_("使用中"), default=True)
    charset = models.CharField(_("送信する文字コード"), max_length=20, choices=Charset.choices, default=Charset.UTF8)
    send_acknowledgement = models.BooleanField(_("受付確認メールを送る"), default=True)
    shop_name = models.CharField(
        _("店名"), max_length=60, blank=True,
        help_text=_("メールで始まっていない案件の最初のメールの件名に【店名】として付けます（例: こもれび堂）。"),
    )
    signature = models.TextField(
        _("署名"), blank=True,
        help_text=_("お客様へのメールの末尾に付けます。{agent_name} は担当者の表示名、{agent_signature} は担当者ご自身の署名、"
                    "{shop_name} は店名に置き換わります。{agent_signature} がなければ、担当者の署名はこの署名の上に付きます。"),
    )
    contact_address = models.EmailField(
        _("お客様に見せる連絡先アドレス"), blank=True,
        help_text=_("お客様へのメールの返信先（Reply-To）になります。空欄ならこのメールボックスのアドレスです。"
                    "お客様の返信がこのデスクに届くアドレスにしてください。"),
    )
    approval = models.CharField(
        _("返信の承認"), max_length=10, choices=ApprovalRule.choices, default=ApprovalRule.FLAGGED,
        help_text=_("承認が必要な返信は、リーダー（チームにリーダーがいなければ管理者）が承認してから送られます。"),
    )
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("担当チーム"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("このアドレスに届いたメールの案件を受け持つチーム。空欄なら最初のチーム（番号が最も小さいチーム）です。"),
    )
    imap_host = models.CharField(_("IMAPサーバー"), max_length=200, blank=True)
    imap_port = models.PositiveIntegerField(_("IMAPポート"), default=993)
    imap_tls = models.BooleanField(_("TLSを使う"), default=True)
    imap_user = models.CharField(_("IMAPユーザー名"), max_length=200, blank=True)
    imap_password_encrypted = models.TextField(blank=True, editable=False)
    imap_password_env = models.CharField(
        _("パスワードを読む環境変数名"), max_length=100, blank=True, validators=[validate_password_env_name],
        help_text=_("指定するとパスワードをデータベースに保存せず、この環境変数から読みます。名前は MADOGUCHI_IMAP_ で始めてください。"),
    )
    imap_folder = models.CharField(_("フォルダ"), max_length=200, default="INBOX")
    poll_seconds = models.PositiveIntegerField(_("確認する間隔（秒）"), default=60)
    last_polled_at = models.DateTimeField(_("最後に確認した日時"), null=True, blank=True)
    last_error = models.TextField(_("最後のエラー"), blank=True)

    class Meta:
        verbose_name = _("メールボックス")
        verbose_name_plural = _("メールボックス")

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"

    def set_imap_password(self, password: str) -> None:
        self.imap_password_encrypted = _fernet().encrypt(password.encode()).decode() if password else ""

    def imap_password(self) -> str:
        if self.imap_password_env:
            if not is_password_env_name(self.imap_password_env):
                # Saved before the rule, or written around the admin: never read other secrets.
                raise ValueError(str(_("パスワードの環境変数名が使えません（MADOGUCHI_IMAP_ で始まる名前だけ読めます）。メールボックスの設定を直してください。")))
            return os.environ.get(self.imap_password_env, "")
        if not self.imap_password_encrypted:
            return ""
        try:
            return _fernet().decrypt(self.imap_password_encrypted.encode()).decode()
        except InvalidToken:
            return ""  # SECRET_KEY changed: the password must be entered again


class RawState(models.TextChoices):
    PENDING = "pending", _("処理待ち")
    PARSED = "parsed", _("取り込み済み")
    IGNORED = "ignored", _("取り込み対象外")
    FAILED = "failed", _("読み取れなかった")


class RawMessage(models.Model):
    mailbox = models.ForeignKey(Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    source = models.CharField(_("受信経路"), max_length=20)
    raw = models.BinaryField(_("元のメール"))
    size = models.PositiveIntegerField(_("サイズ"))
    sha256 = models.CharField(max_length=64, unique=True)
    # Hash of the body only: the same mail delivered twice with different Received headers.
    content_hash = models.CharField(max_length=64)
    message_id = models.CharField(max_length=255, blank=True, db_index=True)
    # The SMTP envelope's MAIL FROM, kept beside the exact bytes (it is not in them): "<>" is
    # the null sender of bounces and auto-replies (RFC 5321 4.5.5); NULL when not known (IMAP,
    # import, mail stored before it was kept). Nullable so that adding it to a table of
    # millions of raw mails is a plain ADD COLUMN (SQLite copies the whole table otherwise).
    envelope_sender = models.CharField(_("エンベロープ差出人"), max_length=254, null=True, blank=True)  # noqa: DJ001
    received_at = models.DateTimeField(_("受信日時"), auto_now_add=True)
    state = models.CharField(_("状態"), max_length=10, choices=RawState.choices, default=RawState.PENDING)
    error = models.TextField(_("エラー"), blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # When a worker began its try; while recent, no other worker counts or files the mail.
    attempt_started_at = models.DateTimeField(null=True, blank=True)
    subject = models.CharField(_("件名"), max_length=200, blank=True)
    from_address = models.CharField(_("差出人"), max_length=254, blank=True)
    visible_text = models.TextField(blank=True)
    quoted_text = models.TextField(blank=True)
    html = models.TextField(blank=True)
    auto_reason = models.CharField(max_length=30, blank=True)
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="raw_mails")
    interaction = models.OneToOneField(
        "cases.Interaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="raw_mail"
    )
    parsed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("受信メール")
        verbose_name_plural = _("受信メール")
        constraints = [
            models.UniqueConstraint(
                fields=["message_id", "content_hash"], name="rawmessage_unique_mid_body", condition=~Q(message_id="")
            ),
        ]
        indexes = [
            models.Index(fields=["state", "-received_at"], name="rawmessage_state"),
            models.Index(fields=["from_address", "-received_at"], name="rawmessage_sender"),
        ]

    def __str__(self) -> str:
        return f"{self.subject or self.message_id or self.sha256[:12]}"

    @property
    def is_truncated(self) -> bool:
        """Only the headers were kept (the mail was over the size limit)."""
        return self.size > len(self.raw)


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name is a hash; the Japanese name lives in `filename` and in the download.
    return f"mail/{instance.raw_message.sha256[:2]}/{instance.raw_message.sha256}/{instance.position}"


class Attachment(models.Model):
    raw_message = models.ForeignKey(RawMessage, on_delete=models.CASCADE, related_name="attachments")
    position = models.PositiveIntegerField()
    file = models.FileField(upload_to=attachment_path, max_length=300, blank=True)
    filename = models.CharField(_("ファイル名"), max_length=255)
    size = models.PositiveIntegerField(_("サイズ"))
    content_type = models.CharField(max_length=100)
    inline = models.BooleanField(default=False)
    too_large = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("添付ファイル")
        verbose_name_plural = _("添付ファイル")
        constraints = [models.UniqueConstraint(fields=["raw_message", "position"], name="attachment_unique_position")]

    def __str__(self) -> str:
        return self.filename


class OutboundKind(models.TextChoices):
    REPLY = "reply", _("返信")
    ACK = "ack", _("受付確認")
    STAFF = "staff", _("担当者への通知")
    FORWARD = "forward", _("他部署への転送")


class OutboundState(models.TextChoices):
    PENDING = "pending", _("送信待ち")
    SENDING = "sending", _("送信中")
    SENT = "sent", _("送信済み")
    FAILED = "failed", _("送信できませんでした")
    BOUNCED = "bounced", _("届きませんでした")


class OutboundMessage(models.Model):
    kind = models.CharField(max_length=10, choices=OutboundKind.choices)
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="outbound_mails")
    # One reply, one mail: the unique link is what makes sending exactly-once.
    interaction = models.OneToOneField(
        "cases.Interaction", null=True, blank=True, on_delete=models.CASCADE, related_name="outbound_mail"
    )
    mailbox = models.ForeignKey(Mailbox, null=True, blank=True, on_delete=models.SET_NULL)
    from_address = models.CharField(max_length=254)
    to_address = models.CharField(max_length=254)
    # More recipients of a reply, comma-separated bare addresses (mail.addresses): CC in the
    # headers, BCC only in the SMTP envelope (never in the mail the others get).
    cc = models.TextField(_("CC"), blank=True)
    bcc = models.TextField(_("BCC"), blank=True)
    reply_to = models.CharField(_("返信先"), max_length=254, blank=True)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    charset = models.CharField(max_length=20, default=Charset.UTF8)
    message_id = models.CharField(max_length=255, unique=True)
    # Keeps one staff mail per event (a reminder, an escalation) however often a job runs.
    dedupe_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    state = models.CharField(_("状態"), max_length=10, choices=OutboundState.choices, default=OutboundState.PENDING)
    attempts = models.PositiveIntegerField(_("送信回数"), default=0)
    last_error = models.TextField(_("最後のエラー"), blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(_("送信日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("送信メール")
        verbose_name_plural = _("送信メール")
        constraints = [
            models.UniqueConstraint(fields=["case"], name="outbound_one_ack_per_case", condition=Q(kind="ack")),
        ]
        indexes = [
            models.Index(fields=["to_address", "kind", "created_at"], name="outbound_rate"),
            models.Index(fields=["state", "next_attempt_at"], name="outbound_due"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.to_address}"


# --- Replies held back, departments, forwards (issue 22 item 5) ------------------------------------

class HeldState(models.TextChoices):
    AWAITING = "awaiting", _("承認待ち")
    RETURNED = "returned", _("差し戻し")
    SCHEDULED = "scheduled", _("送信予定")
    SENT = "sent", _("送信済み")
    CANCELLED = "cancelled", _("取り消し")


HELD_OPEN = [HeldState.AWAITING, HeldState.RETURNED, HeldState.SCHEDULED]


class HeldReply(models.Model):
    """A reply to the customer by mail that is not sent yet: waiting for a lead's approval, sent
    back with a comment, or scheduled for a time. Nothing is on the case's timeline until it
    goes: then it is written by cases.services.do_send_reply as its author's reply (its mail in
    the outbox, once: `interaction` is set in the same transaction that claims it)."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="held_replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("書いた人"), on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("本文"))
    cc = models.TextField(_("CC"), blank=True)
    bcc = models.TextField(_("BCC"), blank=True)
    send_at = models.DateTimeField(_("送信日時"), null=True, blank=True)
    state = models.CharField(_("状態"), max_length=10, choices=HeldState.choices)
    needs_approval = models.BooleanField(_("承認が必要"), default=False)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("承認した人"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    returned_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("差し戻した人"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    comment = models.TextField(_("差し戻しのコメント"), blank=True)
    error = models.TextField(_("送れなかった理由"), blank=True)
    interaction = models.OneToOneField("cases.Interaction", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="held_reply")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("送信前の返信")
        verbose_name_plural = _("送信前の返信")
        indexes = [
            models.Index(fields=["send_at"], name="heldreply_due", condition=Q(state="scheduled")),
            models.Index(fields=["created_at"], name="heldreply_awaiting", condition=Q(state="awaiting")),
        ]

    def __str__(self) -> str:
        return f"#{self.case_id} {self.get_state_display()}"


class Department(models.Model):
    """Another department of the shop a case can be forwarded to by mail (配送・経理・商品部…)."""

    name = models.CharField(_("部署名"), max_length=100, unique=True)
    address = models.EmailField(_("メールアドレス"))
    active = models.BooleanField(_("使用中"), default=True)

    class Meta:
        verbose_name = _("転送先の部署")
        verbose_name_plural = _("転送先の部署")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"


class Forward(models.Model):
    """A case sent to another department by mail with its thread. Their answer (a reply to that
    mail, or a mail carrying its token) joins the case as an internal entry (mail.forwarding)."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="forwards")
    department = models.ForeignKey(Department, verbose_name=_("部署"), null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    to_address = models.CharField(_("宛先"), max_length=254)
    note = models.TextField(_("依頼内容"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("転送した人"), null=True,
                               on_delete=models.SET_NULL, related_name="+")
    token = models.CharField(max_length=32, unique=True)
    outbound = models.OneToOneField(OutboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="forward")
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(_("回答日時"), null=True, blank=True)
    answer = models.ForeignKey("cases.Interaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("他部署への転送")
        verbose_name_plural = _("他部署への転送")

    def __str__(self) -> str:
        return f"#{self.case_id} → {self.to_address}"
