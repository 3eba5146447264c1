"""The shop's own X account (issue 19): the mentions and DMs fetched from the X API v2, raw,
before anything else; the X users behind customers; where each fetch left off; and the replies
the desk posts.

The desk (cases) never imports this app: it hears of replies through `interaction_added` and
shows each post's kind and delivery state through `cases.page.TIMELINE_EXTRAS`."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class XAccount(models.Model):
    """The shop's account (one row): its id is needed for the mentions' URL and to tell the
    shop's own DMs from the customers'."""

    user_id = models.CharField(max_length=32)
    username = models.CharField(max_length=50, blank=True)
    checked_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Xのショップアカウント")
        verbose_name_plural = _("Xのショップアカウント")

    def __str__(self) -> str:
        return f"@{self.username}" if self.username else self.user_id


class Stream(models.TextChoices):
    MENTIONS = "mentions", _("メンション")
    DMS = "dms", _("DM")
    SEARCH = "search", _("検索（ソーシャルリスニング）")


class XCursor(models.Model):
    """Where the fetch of one stream left off. `since_id`: the newest post filed, the next walk
    stops there. A walk over several pages keeps `next_token` and the newest id of its first
    page (`walk_newest_id`) until its last page; both move in the transaction that stored the
    page, so a walk cut short (a rate limit, a restart) resumes where it stopped and loses nothing.
    `wait_until`: X said the stream's rate limit resets then (x-rate-limit-reset)."""

    stream = models.CharField(max_length=10, choices=Stream.choices, unique=True)
    since_id = models.CharField(max_length=32, blank=True)
    next_token = models.CharField(max_length=200, blank=True)
    walk_newest_id = models.CharField(max_length=32, blank=True)
    # A first walk (no since_id yet) reads back from here; its later pages ask the same.
    walk_start = models.DateTimeField(null=True, blank=True)
    # The search (listening) stream: the posted time of the last walk's newest post, which becomes
    # since_id once the listening queue holds a post that new (x_account/listening.py).
    walk_newest_at = models.DateTimeField(null=True, blank=True)
    wait_until = models.DateTimeField(null=True, blank=True)
    requests_left = models.IntegerField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("Xの取得状況")
        verbose_name_plural = _("Xの取得状況")

    def __str__(self) -> str:
        return f"{self.stream} since {self.since_id or '-'}"


class XUser(models.Model):
    """One X user who wrote to the shop: a customer identity (kind `x`, the handle) with what X
    told of them. The numeric id is what stays when a user changes their handle."""

    user_id = models.CharField(max_length=32, unique=True)
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="x_users")
    username = models.CharField(_("ユーザー名"), max_length=50, blank=True)
    name = models.CharField(_("表示名"), max_length=200, blank=True)
    profile_image_url = models.CharField(_("プロフィール画像"), max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Xユーザー")
        verbose_name_plural = _("Xユーザー")

    def __str__(self) -> str:
        return f"@{self.username}" if self.username else self.user_id


class ItemKind(models.TextChoices):
    MENTION = "mention", _("メンション")
    DM = "dm", _("DM")


class XRawItem(models.Model):
    """One post mentioning the shop or one DM event, exactly as the X API returned it (its JSON,
    with the author's user object from `includes.users`), stored before anything else; the
    worker files it on a case afterwards. Stored once per id however often it is fetched."""

    kind = models.CharField(_("種類"), max_length=10, choices=ItemKind.choices)
    item_id = models.CharField(max_length=32)
    author_id = models.CharField(max_length=32, blank=True)
    conversation_id = models.CharField(max_length=64, blank=True)
    raw = models.TextField(_("受信した内容"))
    occurred_at = models.DateTimeField(_("日時"))
    fetched_at = models.DateTimeField(_("取得日時"), auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(_("エラー"), blank=True)
    interaction = models.OneToOneField(
        "cases.Interaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="x_item"
    )

    class Meta:
        verbose_name = _("X受信データ")
        verbose_name_plural = _("X受信データ")
        constraints = [models.UniqueConstraint(fields=["kind", "item_id"], name="x_item_once")]
        indexes = [models.Index(fields=["processed_at"], name="x_item_unfiled", condition=Q(processed_at__isnull=True))]

    def __str__(self) -> str:
        return f"{self.kind} {self.item_id}"


class Route(models.TextChoices):
    PUBLIC = "public", _("公開リプライ")
    DM = "dm", _("DM")


class OutboundState(models.TextChoices):
    PENDING = "pending", _("送信待ち")
    SENDING = "sending", _("送信中")
    SENT = "sent", _("送信済み")
    HELD = "held", _("送信を止めました")
    FAILED = "failed", _("送信できませんでした")


class XOutbound(models.Model):
    """An agent's reply on an X case: a public reply to the customer's post or a DM, posted by the
    worker. X has no idempotency key, so a try whose outcome is unknown (no answer, 5xx) is
    checked before it is tried again: a public reply X already has is refused as a duplicate, a
    DM is looked for in the conversation."""

    interaction = models.OneToOneField("cases.Interaction", on_delete=models.CASCADE, related_name="x_outbound")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="x_outbounds")
    route = models.CharField(_("送り方"), max_length=10, choices=Route.choices)
    to_user_id = models.CharField(max_length=32, blank=True)
    in_reply_to = models.CharField(max_length=32, blank=True)
    body = models.TextField()
    state = models.CharField(_("状態"), max_length=10, choices=OutboundState.choices, default=OutboundState.PENDING)
    attempts = models.PositiveIntegerField(_("送信回数"), default=0)
    # An earlier try may have reached X (no answer, or a 5xx): look before posting again.
    uncertain_since = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("最後のエラー"), blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    posted_id = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(_("送信日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("X送信メッセージ")
        verbose_name_plural = _("X送信メッセージ")
        indexes = [models.Index(fields=["next_attempt_at"], name="x_outbound_due",
                                condition=Q(state__in=["pending", "sending"]))]

    def __str__(self) -> str:
        return f"{self.get_route_display()} {self.get_state_display()} → {self.to_user_id}"
