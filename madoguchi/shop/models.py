"""The shop's products (with description passages a case can point at) and orders."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Product(models.Model):
    sku = models.CharField(_("商品コード"), max_length=50, unique=True)
    name = models.CharField(_("商品名"), max_length=200)
    url = models.URLField(_("商品ページ"), blank=True)

    class Meta:
        verbose_name = _("商品")
        verbose_name_plural = _("商品")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Passage(models.Model):
    """One passage of a product description: a case can say which passage was misread (SPEC §9)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="passages")
    position = models.PositiveIntegerField(_("順番"))
    text = models.TextField(_("本文"))

    class Meta:
        verbose_name = _("説明文の段落")
        verbose_name_plural = _("説明文の段落")
        ordering = ["product", "position"]
        constraints = [models.UniqueConstraint(fields=["product", "position"], name="passage_position_unique")]

    def __str__(self) -> str:
        return f"{self.product.name} §{self.position}: {self.text[:30]}"


class Carrier(models.TextChoices):
    YAMATO = "yamato", _("ヤマト運輸")
    SAGAWA = "sagawa", _("佐川急便")
    JAPANPOST = "japanpost", _("日本郵便")
    SEINO = "seino", _("西濃運輸")
    OTHER = "other", _("その他")


class Order(models.Model):
    number = models.CharField(_("注文番号"), max_length=50, unique=True)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="orders")
    ordered_at = models.DateTimeField(_("注文日時"))
    shipped_at = models.DateTimeField(_("発送日時"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("配達日時"), null=True, blank=True)
    carrier = models.CharField(_("配送業者"), max_length=20, choices=Carrier.choices, blank=True)
    tracking_number = models.CharField(_("問い合わせ番号"), max_length=50, blank=True, db_index=True)
    amount_yen = models.PositiveIntegerField(_("合計金額（円）"), default=0)

    class Meta:
        verbose_name = _("注文")
        verbose_name_plural = _("注文")
        indexes = [models.Index(fields=["customer", "-ordered_at"])]

    def __str__(self) -> str:
        return self.number


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_items")
    quantity = models.PositiveIntegerField(_("数量"), default=1)
    unit_price_yen = models.PositiveIntegerField(_("単価（円）"), default=0)

    class Meta:
        verbose_name = _("注文明細")
        verbose_name_plural = _("注文明細")

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity}"
