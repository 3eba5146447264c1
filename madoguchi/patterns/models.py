"""Clusters of similar complaints, the cases in each, and the spikes flagged on them.

A cluster is keyed by what its cases share (the category, and the carrier, product or passage
where known: `clustering.key_of`) and refined by the text: within one key, cases whose words
are close share a cluster. Membership is stable: a case joins a cluster once and stays there
(`Member`, one per case); a new case joins the nearest cluster of its key or starts one.

`Member` repeats the case's received time and what it was keyed by, so a cluster's cases, its
weekly counts and the dashboard's breakdowns are read from one indexed table, never by joining
cases and readings at a million rows."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Cluster(models.Model):
    category = models.ForeignKey("cases.Category", verbose_name=_("分類"), on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey("shop.Product", verbose_name=_("商品"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    passage = models.ForeignKey("shop.Passage", verbose_name=_("説明文の段落"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    carrier = models.CharField(_("配送業者"), max_length=20, blank=True)
    # category/product/passage/carrier as one string: the clusters of a key are found by it.
    key = models.CharField(max_length=120)
    # What the cluster's cases say: their summed word weights (the top words kept), from which
    # a new case's nearness is measured, and the cluster's name (its leading words).
    terms = models.JSONField(default=dict, blank=True)
    label = models.CharField(_("よく出る言葉"), max_length=200, blank=True)
    size = models.PositiveIntegerField(_("件数"), default=0)
    created_at = models.DateTimeField(_("作成日時"), default=timezone.now)
    last_case_at = models.DateTimeField(_("最後の案件の受付日時"), null=True, blank=True)
    # Written by the periodic job (spikes.refresh): the list is read in this order.
    recent = models.PositiveIntegerField(_("直近12週の件数"), default=0)
    this_week = models.PositiveIntegerField(_("今週の件数"), default=0)
    # The Monday (JST) of the week of the cluster's current spike, while that week lasts.
    spike_week = models.DateField(_("急増の週"), null=True, blank=True)

    class Meta:
        verbose_name = _("苦情のまとまり")
        verbose_name_plural = _("苦情のまとまり")
        permissions = [("view_patterns", _("苦情の傾向を見る（商品・物流の担当者）"))]
        indexes = [
            models.Index(fields=["key"], name="patterns_cluster_key"),
            models.Index(fields=["-recent", "-id"], name="patterns_cluster_recent"),
            models.Index(fields=["-this_week", "-id"], name="patterns_cluster_spiking",
                         condition=Q(spike_week__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.label}"

    @property
    def carrier_label(self) -> str:
        from madoguchi.shop.models import Carrier

        return str(dict(Carrier.choices).get(self.carrier, self.carrier))


class Member(models.Model):
    """A case in a cluster, with what it was keyed by (as it was when it joined)."""

    case = models.OneToOneField("cases.Case", primary_key=True, on_delete=models.CASCADE, related_name="cluster_member")
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="members")
    received_at = models.DateTimeField()
    category = models.ForeignKey("cases.Category", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey("shop.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    passage = models.ForeignKey("shop.Passage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    carrier = models.CharField(max_length=20, blank=True)
    similarity = models.FloatField(default=0)  # to the cluster's words when it joined
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("まとまりの案件")
        verbose_name_plural = _("まとまりの案件")
        indexes = [
            # A cluster's cases newest first (keyset pages) and its weekly counts.
            models.Index(fields=["cluster", "-received_at", "-case"], name="patterns_member_cluster"),
            # The dashboard's breakdowns: a period's members grouped by one of these.
            models.Index(fields=["received_at", "product"], name="patterns_member_product"),
            models.Index(fields=["received_at", "passage"], name="patterns_member_passage"),
            models.Index(fields=["received_at", "carrier"], name="patterns_member_carrier"),
        ]

    def __str__(self) -> str:
        return f"#{self.case_id} → {self.cluster_id}"


class Spike(models.Model):
    """A week in which a cluster had many more cases than in the eight before: flagged once
    per cluster and week, the team leads notified once."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="spikes")
    week = models.DateField(_("週（月曜日）"))
    count = models.PositiveIntegerField(_("その週の件数"))
    mean = models.FloatField(_("前の8週の平均"))
    spread = models.FloatField(_("前の8週の標準偏差"))
    flagged_at = models.DateTimeField(_("検知日時"), default=timezone.now)

    class Meta:
        verbose_name = _("急増")
        verbose_name_plural = _("急増")
        constraints = [models.UniqueConstraint(fields=["cluster", "week"], name="patterns_spike_once")]
        indexes = [models.Index(fields=["-flagged_at"], name="patterns_spike_recent")]

    def __str__(self) -> str:
        return f"{self.cluster_id} {self.week}: {self.count}"


class Progress(models.Model):
    """Where the periodic job stands: the last message reading it looked at (readings are
    keyed by their message's id, which only grows), so a run reads only what is new."""

    name = models.CharField(max_length=40, unique=True)
    cursor = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("処理の位置")
        verbose_name_plural = _("処理の位置")

    def __str__(self) -> str:
        return f"{self.name}: {self.cursor}"
