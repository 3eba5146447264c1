"""Root causes and countermeasures (issue 20 items 3 and 4): why complaints of a kind happened,
what the shop changed so they stop, and (`effect.py`) whether they did."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Cause(models.TextChoices):
    SHOP = "shop", _("店舗のミス")
    CARRIER = "carrier", _("配送業者")
    PRODUCT = "product", _("商品そのもの")
    DESCRIPTION = "description", _("商品説明")
    MISUNDERSTANDING = "misunderstanding", _("お客様の誤解")
    OTHER = "other", _("その他")


class CaseRootCause(models.Model):
    """The root cause of one case, as the person who looked into it judged it. One row per case;
    each change is an AuditEvent on the case (`services.do_set_root_cause`)."""

    case = models.OneToOneField("cases.Case", primary_key=True, on_delete=models.CASCADE, related_name="root_cause")
    cause = models.CharField(_("根本原因"), max_length=20, choices=Cause.choices)
    note = models.TextField(_("原因の説明"), blank=True)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    set_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("案件の根本原因")
        verbose_name_plural = _("案件の根本原因")
        indexes = [models.Index(fields=["cause", "case"], name="prevention_cause_case")]

    def __str__(self) -> str:
        return str(self.get_cause_display())


WINDOW_CHOICES = [(14, _("2週間")), (28, _("4週間")), (56, _("8週間")), (84, _("12週間"))]


class Countermeasure(models.Model):
    """What the shop changed so a kind of complaint stops: what, by whom, on which date, linked to
    the product, product-page passage, carrier, handling rule or article it changed.

    Its scope (the complaints whose rate the effect check compares before and after `done_on`)
    is its cluster's cases, or without a cluster the cases matching every link it has among
    category, product, passage and carrier (an empty one: all cases). Saved through `services.do_save_countermeasure` (settings-audited)."""

    title = models.CharField(_("変えたこと"), max_length=200)
    # The complaints it aims at: a cluster (madoguchi.patterns), or without one the links below.
    cluster = models.ForeignKey("patterns.Cluster", verbose_name=_("苦情のまとまり"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="countermeasures")
    detail = models.TextField(_("対策の内容"), blank=True)
    cause = models.CharField(_("根本原因"), max_length=20, choices=Cause.choices)
    cause_note = models.TextField(_("原因の説明"), blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("実施した人"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    done_on = models.DateField(_("実施日"))
    window_days = models.PositiveSmallIntegerField(_("効果を確かめる期間"), choices=WINDOW_CHOICES, default=28)
    category = models.ForeignKey("cases.Category", verbose_name=_("分類"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey("shop.Product", verbose_name=_("商品"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    passage = models.ForeignKey("shop.Passage", verbose_name=_("商品説明の箇所"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    carrier = models.CharField(_("配送業者"), max_length=20, blank=True)
    rule = models.ForeignKey("knowledge.Rule", verbose_name=_("対応ルール"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    article = models.ForeignKey("knowledge.Article", verbose_name=_("記事"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                                   editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("再発防止策")
        verbose_name_plural = _("再発防止策")
        ordering = ["-done_on", "-id"]

    def __str__(self) -> str:
        return self.title

    def check_until(self) -> dt.date:
        """The day the effect window is full (recomputed until then)."""
        return self.done_on + dt.timedelta(days=self.window_days)


class ClusterRootCause(models.Model):
    """The root cause of a cluster of similar complaints (madoguchi.patterns), as a lead judged it
    (settings-audited: `services.do_set_cluster_root_cause`)."""

    cluster = models.OneToOneField("patterns.Cluster", primary_key=True, on_delete=models.CASCADE,
                                   related_name="root_cause", verbose_name=_("苦情のまとまり"))
    cause = models.CharField(_("根本原因"), max_length=20, choices=Cause.choices)
    note = models.TextField(_("原因の説明"), blank=True)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                               editable=False)
    set_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("まとまりの根本原因")
        verbose_name_plural = _("まとまりの根本原因")

    def __str__(self) -> str:
        return f"{self.cluster}: {self.get_cause_display()}"


class DigestWeek(models.Model):
    """One row per week (its Monday, JST) whose prevention digest was put in the outbox: claimed
    by its insert, so the weekly mail goes once however many workers run the job."""

    week = models.DateField(primary_key=True)
    sent_at = models.DateTimeField(default=timezone.now)
    recipients = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.week.isoformat()
