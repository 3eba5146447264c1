"""What the reader made of each customer message, and the categories agents corrected."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MessageKind(models.TextChoices):
    COMPLAINT = "complaint", _("苦情")
    QUESTION = "question", _("質問")
    REQUEST = "request", _("依頼")
    PRAISE = "praise", _("お褒め")
    NOISE = "noise", _("対応不要")


class MessageReading(models.Model):
    """One inbound message as the reader read it. Written by the worker after the message was
    committed; read again (replaced) when the message is read again."""

    interaction = models.OneToOneField("cases.Interaction", on_delete=models.CASCADE, primary_key=True,
                                       related_name="reading")
    kind = models.CharField(_("種類"), max_length=10, choices=MessageKind.choices)
    category = models.CharField(_("分類（コード）"), max_length=40)
    anger = models.FloatField(_("怒りの度合い"))  # 0 calm … 4 furious
    kind_confidence = models.FloatField(default=0)
    category_confidence = models.FloatField(default=0)
    orders = models.JSONField(_("注文番号"), default=list, blank=True)
    carriers = models.JSONField(_("配送業者"), default=list, blank=True)
    products = models.JSONField(_("商品"), default=list, blank=True)  # shop.Product ids
    model_trained_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("メッセージの読み取り")
        verbose_name_plural = _("メッセージの読み取り")

    def __str__(self) -> str:
        return f"{self.kind} {self.category} {self.anger:.1f}"


class CategoryLabel(models.Model):
    """A case's category as an agent set it: the shop's own training data. One per case (the
    latest correction wins); the text is the customer's first message as it was then."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="category_label")
    text = models.TextField(_("お客様の文面"))
    category = models.ForeignKey("cases.Category", on_delete=models.CASCADE, related_name="labels")
    labelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    labelled_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("分類の正解")
        verbose_name_plural = _("分類の正解")
        indexes = [models.Index(fields=["labelled_at"], name="triage_label_at")]

    def __str__(self) -> str:
        return f"#{self.case_id} → {self.category_id}"
