"""One customer, many identities across channels (SPEC §10)."""

from __future__ import annotations

from django.conf import settings
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
    # Whether staff wrote or confirmed the name (a call logged by an agent, the customer page).
    # A name from a mail's From header or typed on a public page is anyone's words: automatic
    # mails then say 「お客様」 (customers.services.salutation).
    name_confirmed = models.BooleanField(_("お名前を確認済み"), default=False)
    name_confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                          related_name="+", verbose_name=_("お名前を確認した担当者"))
    name_confirmed_at = models.DateTimeField(_("お名前を確認した日時"), null=True, blank=True)
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
        return f"{self.get_kind_display()}: {self.display}"

    @property
    def display(self) -> str:
        """The value as people write it (a phone number with its hyphens)."""
        from madoguchi.customers.phones import phone_display

        return phone_display(self.value) if self.kind == IdentityKind.PHONE else self.value


class MatchState(models.TextChoices):
    UNCONFIRMED = "unconfirmed", _("本人確認前")
    MERGED = "merged", _("ご本人と確認して統合")
    DISMISSED = "dismissed", _("別の方として扱う")


class PossibleMatch(models.Model):
    """「同じ方かもしれない」: a visitor on a public page (chat, forms) typed an identity that
    already belongs to another customer. Anyone can type anyone's address, so the visitor gets
    a customer record of their own (`customer`) and this row keeps the unconfirmed link to the
    one who holds the identity (`existing`) until a staff member merges or dismisses it."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="possible_matches",
                                 verbose_name=_("入力したお客様"))
    existing = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", verbose_name=_("既存のお客様"))
    kind = models.CharField(_("種類"), max_length=10, choices=IdentityKind.choices, default=IdentityKind.EMAIL)
    # Normalised as identities are; replies to the visitor go here until a staff member decides.
    value = models.CharField(_("入力された連絡先"), max_length=254)
    channel = models.CharField(_("窓口"), max_length=20)  # a cases.models.Channel value
    state = models.CharField(_("状態"), max_length=12, choices=MatchState.choices, default=MatchState.UNCONFIRMED)
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("判断した担当者"))
    decided_at = models.DateTimeField(_("判断日時"), null=True, blank=True)
    note = models.TextField(_("本人確認の方法・判断の理由"), blank=True)

    class Meta:
        verbose_name = _("同一人物の可能性")
        verbose_name_plural = _("同一人物の可能性")
        indexes = [models.Index(fields=["customer", "state"], name="possible_match_customer")]

    def __str__(self) -> str:
        return f"{self.customer} ? {self.existing} ({self.value})"


class CustomerMerge(models.Model):
    """Who merged which customer record into which, when and why. A merge shows one record's
    history to everyone serving the other and sends replies to the survivor's addresses, so
    every merge is kept with the staff member's reason (the merge form and 「同じ方かもしれない」)."""

    source = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", verbose_name=_("統合した記録"))
    target = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="merges_in", verbose_name=_("統合先"))
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", verbose_name=_("統合した担当者"))
    merged_at = models.DateTimeField(_("統合日時"), auto_now_add=True)
    note = models.TextField(_("同じ方と判断した理由"))

    class Meta:
        verbose_name = _("お客様の統合")
        verbose_name_plural = _("お客様の統合")
        indexes = [models.Index(fields=["target", "merged_at"], name="customer_merge_target")]

    def __str__(self) -> str:
        return f"{self.source_id} → {self.target_id}"
