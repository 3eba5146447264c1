"""The customer's view of their case (SPEC §3 step 5, keep the customer informed): a status
page reached by a signed link, and the notice that a promise to the customer will be late.

Nothing here is shown to the customer directly: `services.public_view` picks what the page
shows (customer-facing promises and replies only)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class StatusLink(models.Model):
    """One link to a case's status page. The URL carries the row's id signed with the secret key
    (`services.token_for`), so the database holds no usable secret; a link is unusable once
    revoked (the agent made a new one or withdrew it) or past `expires_at`."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="status_links")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("有効期限"))
    revoked_at = models.DateTimeField(_("無効にした日時"), null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    last_viewed_at = models.DateTimeField(_("最後に開かれた日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("進捗ページのリンク")
        verbose_name_plural = _("進捗ページのリンク")
        indexes = [models.Index(fields=["case", "-expires_at"], name="statuslink_live",
                                condition=Q(revoked_at__isnull=True))]

    def __str__(self) -> str:
        return f"{self.case_id}/{self.pk}"


class NoticeState(models.TextChoices):
    DRAFT = "draft", _("承認待ち")
    SENT = "sent", _("送信済み")
    DISMISSED = "dismissed", _("送らない")


class LateNotice(models.Model):
    """The polite notice to the customer that a promise will be late, prepared by the worker
    (`services.prepare_late_notices`) and sent only when a person approves it. One per promise,
    ever (the one-to-one key): a job run twice, or two workers, prepare it once."""

    commitment = models.OneToOneField("cases.Commitment", on_delete=models.CASCADE, related_name="late_notice")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="late_notices")
    state = models.CharField(_("状態"), max_length=10, choices=NoticeState.choices, default=NoticeState.DRAFT)
    prepared_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    # The new expected time the agent confirms (the draft proposes one).
    new_due_at = models.DateTimeField(_("新しいご連絡予定"), null=True, blank=True)
    body = models.TextField(_("お知らせの文面"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    interaction = models.ForeignKey("cases.Interaction", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    class Meta:
        verbose_name = _("遅れのお知らせ")
        verbose_name_plural = _("遅れのお知らせ")
        indexes = [models.Index(fields=["case"], name="latenotice_draft", condition=Q(state="draft"))]

    def __str__(self) -> str:
        return f"{self.case_id}/{self.commitment_id} {self.state}"
