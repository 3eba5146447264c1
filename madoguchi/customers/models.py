"""One customer, many identities across channels (SPEC §10)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class IdentityKind(models.TextChoices):
    EMAIL = "email", _("メール")
    PHONE = "phone", _("電話")
    LINE = "line", _("LINE")
    X = "x", _("X")


class Customer(models.Model):
    name = models.CharField(_("お名前"), max_length=200)
    kana = models.CharField(_("フリガナ"), max_length=200, blank=True)
    note = models.TextField(_("メモ"), blank=True)
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)
    # Set when this customer was merged into another; the row stays so links never break.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )

    class Meta:
        verbose_name = _("お客様")
        verbose_name_plural = _("お客様")
        indexes = [models.Index(fields=["kana"]), models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name


class Identity(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(_("種類"), max_length=10, choices=IdentityKind.choices)
    # Stored normalised (see customers.services.normalise_identity) so lookups are exact.
    value = models.CharField(_("値"), max_length=254)

    class Meta:
        verbose_name = _("連絡先")
        verbose_name_plural = _("連絡先")
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="identity_unique_per_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"
