"""Social listening (issue 19 item 3): posts about the shop on X and elsewhere, imported into a
queue of their own (not cases), each read by the triage reader, then answered on the platform,
turned into a case or dismissed; spikes of complaints about one subject flagged to the leads."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from madoguchi.shop.models import FileImport, ImportRunState
from madoguchi.triage.models import MessageKind


class Platform(models.TextChoices):
    """The platforms the desk names; a file may name others (kept as written, lower case)."""

    X = "x", _("X（旧Twitter）")
    INSTAGRAM = "instagram", _("Instagram")
    FACEBOOK = "facebook", _("Facebook")
    THREADS = "threads", _("Threads")
    TIKTOK = "tiktok", _("TikTok")
    YOUTUBE = "youtube", _("YouTube")
    BLOG = "blog", _("ブログ・掲示板")
    REVIEW = "review", _("レビューサイト")
    OTHER = "other", _("その他")


class PostState(models.TextChoices):
    NEW = "new", _("未対応")
    ANSWERED = "answered", _("返信済み")
    CASE = "case", _("案件にした")
    DISMISSED = "dismissed", _("対応不要")


class PostFormat(models.TextChoices):
    CSV = "csv", "CSV"
    JSON = "json", "JSON"


class PostImport(FileImport):
    """One import of a posts file, with how far it got (bytes read, for the progress bar)."""

    file_format = models.CharField(_("形式"), max_length=20, choices=PostFormat.choices, blank=True)
    skipped = models.PositiveIntegerField(_("取り込めなかった投稿"), default=0)
    bytes_total = models.PositiveBigIntegerField(default=0)
    bytes_done = models.PositiveBigIntegerField(default=0)

    class Meta(FileImport.Meta):
        verbose_name = _("投稿の取り込み")
        verbose_name_plural = _("投稿の取り込み")

    @property
    def percent(self) -> int:
        if self.state == ImportRunState.DONE:
            return 100
        return int(100 * self.bytes_done / self.bytes_total) if self.bytes_total else 0


class ListeningPost(models.Model):
    platform = models.CharField(_("媒体"), max_length=30)
    post_id = models.CharField(_("投稿ID"), max_length=100)
    author_handle = models.CharField(_("投稿者のID"), max_length=100, blank=True)  # without @
    author_name = models.CharField(_("投稿者名"), max_length=200, blank=True)
    text = models.TextField(_("本文"))
    posted_at = models.DateTimeField(_("投稿日時"))
    url = models.CharField(_("URL"), max_length=500, blank=True)
    # The row or object exactly as the file had it (a CSV row as {header: cell}).
    raw = models.JSONField(_("取り込んだままのデータ"), default=dict)
    imported_at = models.DateTimeField(_("取り込み日時"), auto_now_add=True)
    imported_by = models.ForeignKey(PostImport, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The triage reader's reading (madoguchi.triage): kind, category code, anger 0-4, products named.
    kind = models.CharField(_("種類"), max_length=10, choices=MessageKind.choices, blank=True)
    category = models.CharField(_("分類（コード）"), max_length=40, blank=True)
    anger = models.FloatField(_("怒りの度合い"), default=0)
    products = models.JSONField(_("商品"), default=list, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    kind_set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("種類を直した人"))
    state = models.CharField(_("状態"), max_length=10, choices=PostState.choices, default=PostState.NEW)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("対応した人"))
    handled_at = models.DateTimeField(_("対応日時"), null=True, blank=True)
    note = models.TextField(_("メモ"), blank=True)
    reply_url = models.CharField(_("返信のURL"), max_length=500, blank=True)
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name=_("案件"))

    class Meta:
        verbose_name = _("SNSの投稿")
        verbose_name_plural = _("SNSの投稿")
        constraints = [models.UniqueConstraint(fields=["platform", "post_id"], name="listening_post_once")]
        indexes = [
            # The queue: keyset pages (posted_at, id) within a state, optionally a kind.
            models.Index(fields=["state", "-posted_at", "-id"], name="listening_state_at"),
            models.Index(fields=["state", "kind", "-posted_at", "-id"], name="listening_state_kind_at"),
            models.Index(fields=["-posted_at", "-id"], name="listening_at"),
            # The spike check: complaints of the last hours.
            models.Index(fields=["posted_at"], name="listening_complaints_at", condition=Q(kind="complaint")),
        ]

    def __str__(self) -> str:
        return f"{self.platform}:{self.post_id}"

    @property
    def platform_label(self) -> str:
        try:
            return str(Platform(self.platform).label)
        except ValueError:
            return self.platform

    @property
    def author_display(self) -> str:
        handle = f"@{self.author_handle}" if self.author_handle else ""
        if self.author_name and handle:
            return f"{self.author_name} ({handle})"
        return self.author_name or handle


class Spike(models.Model):
    """Complaint posts about one subject (a category, or a product) in an hour, well over the
    subject's hourly mean of the previous days: flagged once to the team leads."""

    subject = models.CharField(_("話題"), max_length=60)  # "category:delivery", "product:12"
    label = models.CharField(_("話題の名前"), max_length=200)
    window_start = models.DateTimeField(_("集計の始まり"))
    window_end = models.DateTimeField(_("集計の終わり"))
    count = models.PositiveIntegerField(_("苦情の投稿数"))
    baseline = models.FloatField(_("1時間あたりの平均"))
    flagged_at = models.DateTimeField(_("検知日時"), auto_now_add=True)
    seen_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("確認した人"))
    seen_at = models.DateTimeField(_("確認日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("苦情の急増")
        verbose_name_plural = _("苦情の急増")
        ordering = ["-flagged_at"]
        indexes = [models.Index(fields=["subject", "-window_end"], name="listening_spike_subject")]

    def __str__(self) -> str:
        return f"{self.label} {self.count}"
