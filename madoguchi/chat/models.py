"""Live chat sessions, their messages and uploads; public form records (feedback, attachments).

The words themselves also go to the case's timeline (cases.services), so the case holds the
whole transcript; these rows keep what only chat needs: delivery, read marks, the queue.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_token() -> str:
    return secrets.token_urlsafe(32)


class SessionState(models.TextChoices):
    WAITING = "waiting", _("待機中")
    ACTIVE = "active", _("対応中")
    ENDED = "ended", _("終了")


class ChatSession(models.Model):
    # The visitor's bearer secret, kept in the shop page's localStorage (never in a cookie).
    token = models.CharField(max_length=64, unique=True, default=new_token)
    case = models.OneToOneField(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="chat_session"
    )
    state = models.CharField(_("状態"), max_length=10, choices=SessionState.choices, default=SessionState.WAITING)
    page_url = models.URLField(_("閲覧中のページ"), max_length=1000, blank=True)
    origin = models.CharField(max_length=200, blank=True)
    name = models.CharField(_("お名前"), max_length=100, blank=True)
    email = models.EmailField(_("メールアドレス"), blank=True)
    order_number = models.CharField(_("注文番号"), max_length=50, blank=True)
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("担当者"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="chat_sessions",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Measures for the KPI work (seed 002: median wait to an answer ≤ 120 s).
    customer_first_message_at = models.DateTimeField(_("お客様の最初のメッセージ"), null=True, blank=True)
    taken_at = models.DateTimeField(_("対応開始"), null=True, blank=True)
    first_agent_reply_at = models.DateTimeField(_("担当者の最初の返信"), null=True, blank=True)
    ended_at = models.DateTimeField(_("終了日時"), null=True, blank=True)
    # The visitor's open sockets (their tabs, in any process) and, once none is open, since when.
    # A socket that comes back within MADOGUCHI_CHAT_VISITOR_GRACE_SECONDS (a page change, a
    # restart of the desk) clears it; agents are told only after that grace (see visitor_gone).
    visitor_sockets = models.PositiveIntegerField(default=0)
    visitor_left_at = models.DateTimeField(_("お客様の退出"), null=True, blank=True)

    class Meta:
        verbose_name = _("チャット")
        verbose_name_plural = _("チャット")
        indexes = [
            models.Index(
                fields=["customer_first_message_at", "id"], name="chat_waiting",
                condition=Q(state="waiting"),
            ),
        ]

    def __str__(self) -> str:
        return f"chat {self.pk} ({self.state})"

    def visitor_gone(self, now: dt.datetime | None = None) -> bool:
        """The visitor closed every page of the shop with the chat, and did not come back
        within the grace period: nobody reads what an agent types now."""
        if self.visitor_left_at is None or self.state == SessionState.ENDED:
            return False
        grace = dt.timedelta(seconds=settings.MADOGUCHI_CHAT_VISITOR_GRACE_SECONDS)
        return (now or timezone.now()) - self.visitor_left_at >= grace

    @property
    def seconds_to_take(self) -> float | None:
        if self.taken_at and self.customer_first_message_at:
            return (self.taken_at - self.customer_first_message_at).total_seconds()
        return None

    @property
    def seconds_to_first_reply(self) -> float | None:
        if self.first_agent_reply_at and self.customer_first_message_at:
            return (self.first_agent_reply_at - self.customer_first_message_at).total_seconds()
        return None


class Sender(models.TextChoices):
    CUSTOMER = "customer", _("お客様")
    AGENT = "agent", _("担当者")
    SYSTEM = "system", _("お知らせ")


class StoredFile(models.Model):
    """A file a visitor sent, checked by its content (see uploads.py), never by its name."""

    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class ChatUpload(StoredFile):
    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="uploads")
    file = models.FileField(upload_to="chat/%Y/%m/")


class ChatMessage(models.Model):
    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="messages")
    # Chosen by the sender's browser; a resend after a network drop carries the same id, so a
    # message is stored once however often it arrives.
    client_id = models.CharField(max_length=64)
    sender = models.CharField(max_length=10, choices=Sender.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField()
    upload = models.ForeignKey(ChatUpload, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "client_id"], name="chat_message_once")]
        indexes = [models.Index(fields=["session", "id"], name="chat_message_session"),
                   # a first message resent on a new socket (services.first_message_again)
                   models.Index(fields=["client_id"], name="chat_message_client_id")]

    def __str__(self) -> str:
        return f"{self.sender}: {self.text[:30]}"


class AgentPresence(models.Model):
    """One open agent WebSocket (any process); 'an agent is online' is read from here."""

    channel_name = models.CharField(max_length=200, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    last_seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.channel_name}"


class FormAttachment(StoredFile):
    """A file sent with the public contact form; shown on the case page."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="form_attachments")
    file = models.FileField(upload_to="forms/%Y/%m/")


class Feedback(models.Model):
    rating = models.PositiveSmallIntegerField(_("満足度"))
    comment = models.TextField(_("ご意見"), blank=True)
    email = models.EmailField(_("メールアドレス"), blank=True)
    order_number = models.CharField(_("注文番号"), max_length=50, blank=True)
    page_url = models.URLField(max_length=1000, blank=True)
    # A low rating with words is a complaint: it becomes a case someone answers.
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("ご意見")
        verbose_name_plural = _("ご意見")

    def __str__(self) -> str:
        return f"★{self.rating} {self.comment[:30]}"


class WebProcess(models.Model):
    """A running web process (`madoguchi serve`), known by the heartbeat it writes. A process
    killed outright (kill -9, a power cut) closes none of its sockets: when its heartbeat stops,
    the visitors counted through it are taken off (chat/presence.py)."""

    id = models.CharField(primary_key=True, max_length=36)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"web process {self.pid} ({self.id[:8]})"


class VisitorPresence(models.Model):
    """How many of a chat visitor's sockets one web process holds (ChatSession.visitor_sockets
    is the sum over the live processes)."""

    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="+")
    process = models.CharField(max_length=36, db_index=True)
    sockets = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "process"], name="chat_presence_one_row")]

    def __str__(self) -> str:
        return f"chat {self.session_id}: {self.sockets} in {self.process[:8]}"


class WidgetSettings(models.Model):
    """The chat widget as the shop set it on the desk (/settings/chat/), one row (pk 1). Until
    it is saved, the environment's settings apply (MADOGUCHI_CHAT_ALLOWED_ORIGINS,
    MADOGUCHI_CHAT_BUSINESS_HOURS), read by chat/widget_settings.py."""

    allowed_origins = models.TextField(
        _("ウィジェットを置くサイト（オリジン）"), blank=True,
        help_text=_("1行に1つ、https://shop.example.jp の形で（パスは付けません）。ここにないサイトからはチャットにつながりません。"),
    )
    follow_business_hours = models.BooleanField(
        _("営業時間外はチャットを受け付けない"), default=True,
        help_text=_("営業時間外は、ライブチャットの代わりにメッセージを預かるフォームを出します。"),
    )
    opens = models.TimeField(_("チャットの開始時刻"), null=True, blank=True,
                             help_text=_("営業時間のうち、チャットを受け付ける時間を狭めるときだけ入れます。"))
    closes = models.TimeField(_("チャットの終了時刻"), null=True, blank=True)
    greeting = models.TextField(
        _("最初のあいさつ"), blank=True, max_length=500,
        help_text=_("チャットを開いたお客様に最初に表示します（空欄なら表示しません）。"),
    )

    class Meta:
        verbose_name = _("チャットウィジェットの設定")
        verbose_name_plural = _("チャットウィジェットの設定")

    def __str__(self) -> str:
        return str(_("チャットウィジェットの設定"))

    def origin_list(self) -> list[str]:
        return [line.strip() for line in self.allowed_origins.splitlines() if line.strip()]
