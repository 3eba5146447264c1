"""In-app notifications for staff (overdue promises, approvals waiting, handovers)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from madoguchi.figures import stamp, yen


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30)
    # With params, `message` is the Japanese msgid (gettext_noop at the call) and the text is put
    # together in the reader's language when shown (`text`); without, it is the text itself.
    message = models.CharField(_("内容"), max_length=300)
    params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="notification_unread", condition=Q(read_at__isnull=True))]

    def __str__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        return compose(self.message, self.params)


def compose(message: str, params: dict[str, object]) -> str:
    """A stored message in the active language: a param named *_yen is an amount, *_label a word
    of the desk's catalogue (a choice's label), *_at a time (ISO 8601, shown in the shop's zone)."""
    if not params:
        return message
    return gettext(message) % {key: _param(key, value) for key, value in params.items()}


def _param(key: str, value: object) -> str:
    if key.endswith("_yen"):
        return yen(value)  # type: ignore[arg-type]
    if key.endswith("_label"):
        return gettext(str(value))
    if key.endswith("_at"):
        return stamp(dt.datetime.fromisoformat(str(value)))  # as the list's own time column
    return str(value)


# --- Notifications by mail (issue 22 item 7) ------------------------------------------------------

class MailKind(models.TextChoices):
    """What a person may choose to get by mail. Each in-desk notification kind that is mailed
    maps to one of these (notifications.mailing.KIND_OF)."""

    HANDOVER = "handover", _("自分への引き継ぎ")
    APPROVAL = "approval", _("承認の依頼と結果（補償・返信）")
    CUSTOMER_REPLY = "customer_reply", _("担当案件へのお客様の返信")
    SLA = "sla", _("SLA の期限が近い・超過した")
    PROMISE = "promise", _("約束の期限が近い・過ぎた")
    LOW_SATISFACTION = "low_satisfaction", _("満足度アンケートの低評価（フォロー）")
    SPIKE = "spike", _("苦情の急増（チームリーダー）")


def _nine() -> dt.time:
    return dt.time(9, 0)


class MailPreference(models.Model):
    """Which notifications a person gets by mail, in which language, and (leads) when the daily
    summary comes. A person without a row gets every kind, in Japanese, the summary at 9:00."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE,
                                related_name="mail_preference", verbose_name=_("利用者"))
    handover = models.BooleanField(MailKind.HANDOVER.label, default=True)
    approval = models.BooleanField(MailKind.APPROVAL.label, default=True)
    customer_reply = models.BooleanField(MailKind.CUSTOMER_REPLY.label, default=True)
    sla = models.BooleanField(MailKind.SLA.label, default=True)
    promise = models.BooleanField(MailKind.PROMISE.label, default=True)
    low_satisfaction = models.BooleanField(MailKind.LOW_SATISFACTION.label, default=True)
    spike = models.BooleanField(MailKind.SPIKE.label, default=True)
    # The weekly prevention digest (madoguchi.prevention): everyone by default (seed 000: share
    # the reports with everyone).
    prevention_digest = models.BooleanField(_("再発防止の週報（毎週月曜）"), default=True)
    language = models.CharField(_("メールの言語"), max_length=10, choices=settings.LANGUAGES, default="ja")
    daily_summary = models.BooleanField(_("毎日のまとめ（リーダー）"), default=True)
    summary_time = models.TimeField(_("まとめを送る時刻（日本時間）"), default=_nine)
    # The shop's day (JST) of the last summary sent: one a day, however often the job runs.
    summary_sent_on = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("メール通知の設定")
        verbose_name_plural = _("メール通知の設定")

    def __str__(self) -> str:
        return str(self.user)

    def wants(self, kind: str) -> bool:
        return bool(getattr(self, kind, False))


class MailEvent(models.Model):
    """One thing one person is to hear of by mail. (user, key) is unique, so an event is mailed
    to a person once however often it is raised; `mailed_at` and `outbound` say by which mail
    (several events of one kind close together share one digest mail)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=MailKind.choices)
    key = models.CharField(max_length=100)
    notification = models.ForeignKey(Notification, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    message = models.CharField(max_length=300)
    params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    send_after = models.DateTimeField()
    mailed_at = models.DateTimeField(null=True, blank=True)
    outbound = models.ForeignKey("mail.OutboundMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("メール通知")
        verbose_name_plural = _("メール通知")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="mail_event_once")]
        indexes = [
            models.Index(fields=["send_after"], name="mail_event_waiting", condition=Q(mailed_at__isnull=True)),
            models.Index(fields=["user", "kind", "-mailed_at"], name="mail_event_last"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.key}"

    @property
    def text(self) -> str:
        return compose(self.message, self.params)
