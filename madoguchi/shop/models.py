"""The shop's products (with description passages a case can point at) and orders."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Product(models.Model):
    sku = models.CharField(_("商品コード"), max_length=50, unique=True)
    name = models.CharField(_("商品名"), max_length=200)
    url = models.URLField(_("商品ページ"), blank=True)
    # Where a synced product came from and its key there (a product a sync keeps up to date).
    source = models.CharField(_("取り込み元"), max_length=10, blank=True)
    external_id = models.CharField(_("取り込み元の商品ID"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("商品")
        verbose_name_plural = _("商品")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], condition=~Q(external_id=""),
                                    name="product_external_id_unique_per_source"),
        ]

    def __str__(self) -> str:
        return self.name


class Passage(models.Model):
    """One passage of a product description: a case can say which passage was misread (SPEC §9).

    A passage keeps its wording as it was: when the shop changes the text, the old row gets
    `valid_to` and a new row holds the new wording from then on, so a case still points at
    what the customer read. The current wording of a position has no `valid_to`."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="passages")
    position = models.PositiveIntegerField(_("順番"))
    text = models.TextField(_("本文"))
    valid_from = models.DateTimeField(_("この文面になった日時"), default=timezone.now)
    valid_to = models.DateTimeField(_("この文面だった最後の日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("説明文の段落")
        verbose_name_plural = _("説明文の段落")
        ordering = ["product", "position", "valid_from"]
        constraints = [models.UniqueConstraint(fields=["product", "position"], condition=Q(valid_to__isnull=True),
                                               name="passage_current_position_unique")]

    def __str__(self) -> str:
        return f"{self.product.name} §{self.position}: {self.text[:30]}"


class Carrier(models.TextChoices):
    YAMATO = "yamato", _("ヤマト運輸")
    SAGAWA = "sagawa", _("佐川急便")
    JAPANPOST = "japanpost", _("日本郵便")
    SEINO = "seino", _("西濃運輸")
    FUKUYAMA = "fukuyama", _("福山通運")
    OTHER = "other", _("その他")


class OrderStatus(models.TextChoices):
    PENDING = "pending", _("入金待ち")
    PAID = "paid", _("支払い済み")
    FULFILLED = "fulfilled", _("発送済み")
    CANCELLED = "cancelled", _("キャンセル")
    REFUNDED = "refunded", _("返金済み")


class OrderSource(models.TextChoices):
    MANUAL = "manual", _("手入力")
    SHOPIFY = "shopify", _("Shopify")
    BASE = "base", _("BASE")
    GENERIC = "generic", _("汎用CSV")


class DeliveryStatus(models.TextChoices):
    """Where a shipment is, as the shop platform reports it (Shopify's fulfilment events)."""

    CONFIRMED = "confirmed", _("発送準備中")
    IN_TRANSIT = "in_transit", _("輸送中")
    OUT_FOR_DELIVERY = "out_for_delivery", _("配達中")
    ATTEMPTED = "attempted", _("不在持ち戻り")
    READY_FOR_PICKUP = "ready_for_pickup", _("受け取り待ち")
    DELAYED = "delayed", _("遅延")
    DELIVERED = "delivered", _("配達済み")
    FAILURE = "failure", _("配達できず")


class Order(models.Model):
    number = models.CharField(_("注文番号"), max_length=50, unique=True)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="orders")
    ordered_at = models.DateTimeField(_("注文日時"))
    status = models.CharField(_("状態"), max_length=12, choices=OrderStatus.choices, default=OrderStatus.PAID)
    # The fulfilment time (Shopify's "Fulfilled at", BASE's 発送): one field for 発送 and fulfilment.
    shipped_at = models.DateTimeField(_("発送日時"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("配達日時"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("キャンセル日時"), null=True, blank=True)
    carrier = models.CharField(_("配送業者"), max_length=20, choices=Carrier.choices, blank=True)
    tracking_number = models.CharField(_("問い合わせ番号"), max_length=50, blank=True, db_index=True)
    # The carrier's last word on the shipment and when it was said (empty: none reported).
    delivery_status = models.CharField(_("配送状況"), max_length=20, choices=DeliveryStatus.choices, blank=True)
    delivery_status_at = models.DateTimeField(_("配送状況の日時"), null=True, blank=True)
    amount_yen = models.PositiveIntegerField(_("合計金額（円）"), default=0)
    refunded_yen = models.PositiveIntegerField(_("返金額（円）"), default=0)
    # Where the order came from and its key there: a re-import or a sync finds the order by these.
    source = models.CharField(_("取り込み元"), max_length=10, choices=OrderSource.choices, default=OrderSource.MANUAL)
    external_id = models.CharField(_("取り込み元の注文ID"), max_length=100, blank=True)
    # Where it goes (the delivery watch counts a carrier's usual days per prefecture group).
    shipping_prefecture = models.CharField(_("配送先の都道府県"), max_length=4, blank=True)

    class Meta:
        verbose_name = _("注文")
        verbose_name_plural = _("注文")
        indexes = [
            models.Index(fields=["customer", "-ordered_at"]),
            # The delivery watch walks only the parcels still on their way, oldest first.
            models.Index(fields=["shipped_at"], name="order_in_transit",
                         condition=Q(shipped_at__isnull=False, delivered_at__isnull=True)),
            # A carrier's orders in a period: the rate per 1,000 orders of complaint patterns.
            models.Index(fields=["carrier", "ordered_at"], name="order_carrier_ordered"),
            # All orders in a period (the breakdowns' orders per product go through their items).
            models.Index(fields=["ordered_at"], name="order_ordered_at"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], condition=~Q(external_id=""),
                                    name="order_external_id_unique_per_source"),
        ]

    def __str__(self) -> str:
        return self.number


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    # Empty when the line has no product code (Shopify allows lines without a SKU).
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_items", null=True, blank=True)
    # The line as the shop system wrote it (the product's name may change later).
    name = models.CharField(_("商品名（注文時）"), max_length=300, blank=True)
    sku = models.CharField(_("商品コード（注文時）"), max_length=50, blank=True)
    quantity = models.PositiveIntegerField(_("数量"), default=1)
    unit_price_yen = models.PositiveIntegerField(_("単価（円）"), default=0)

    class Meta:
        verbose_name = _("注文明細")
        verbose_name_plural = _("注文明細")

    def __str__(self) -> str:
        return f"{self.name or self.product} × {self.quantity}"


class ImportRunState(models.TextChoices):
    QUEUED = "queued", _("待機中")
    RUNNING = "running", _("取り込み中")
    DONE = "done", _("取り込み済み")
    FAILED = "failed", _("失敗")


class FileImport(models.Model):
    """One import of a file (command line or an upload page): who, when, what came of it. The
    order import's ImportRun and listening's PostImport are each one."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", verbose_name=_("実行した人"))
    file_name = models.CharField(_("ファイル名"), max_length=255)
    state = models.CharField(_("状態"), max_length=10, choices=ImportRunState.choices, default=ImportRunState.QUEUED)
    created_at = models.DateTimeField(_("受付日時"), auto_now_add=True)
    finished_at = models.DateTimeField(_("終了日時"), null=True, blank=True)
    created = models.PositiveIntegerField(_("新規"), default=0)
    updated = models.PositiveIntegerField(_("更新"), default=0)
    unchanged = models.PositiveIntegerField(_("変更なし"), default=0)
    # [[line number, reason], ...] for what was skipped; the error that stopped a failed run.
    problems = models.JSONField(_("取り込めなかった行"), default=list, blank=True)
    error = models.TextField(_("エラー"), blank=True)
    # The uploader's language: the worker writes the reasons and the error in it, and the page
    # marks them so (a reader in another language sees them as written).
    language = models.CharField(_("言語"), max_length=10, default="ja")

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.created_at:%Y-%m-%d %H:%M})"


class ImportRun(FileImport):
    """One import of an order file."""

    file_format = models.CharField(_("形式"), max_length=10, choices=OrderSource.choices, blank=True)
    skipped = models.PositiveIntegerField(_("取り込めなかった注文"), default=0)

    class Meta(FileImport.Meta):
        verbose_name = _("注文の取り込み")
        verbose_name_plural = _("注文の取り込み")


class SyncState(models.Model):
    """One live connection to a shop platform (Shopify, BASE): where its sync stands.

    A cursor moves only in the transaction that wrote what was fetched up to it, so a sync cut
    short (the platform down, the worker killed) starts again where the data ends."""

    platform = models.CharField(_("接続先"), max_length=20, unique=True)
    orders_cursor = models.CharField(_("注文の同期位置"), max_length=100, blank=True)
    products_cursor = models.CharField(_("商品の同期位置"), max_length=100, blank=True)
    last_started_at = models.DateTimeField(_("最後に同期を始めた日時"), null=True, blank=True)
    last_synced_at = models.DateTimeField(_("最後に同期できた日時"), null=True, blank=True)
    last_error_at = models.DateTimeField(_("最後のエラーの日時"), null=True, blank=True)
    last_error = models.TextField(_("最後のエラー"), blank=True)
    orders_created = models.PositiveIntegerField(_("取り込んだ注文"), default=0)
    orders_updated = models.PositiveIntegerField(_("更新した注文"), default=0)
    products_synced = models.PositiveIntegerField(_("更新した商品"), default=0)

    class Meta:
        verbose_name = _("ショップとの同期")
        verbose_name_plural = _("ショップとの同期")

    def __str__(self) -> str:
        return self.platform
class CarrierSite(models.Model):
    """A carrier an admin added: its tracking page is `url_pattern` with {number} replaced by
    the tracking number. An order names it by `code` in its carrier field."""

    code = models.SlugField(_("コード"), max_length=20, unique=True,
                            help_text=_("半角英数字。注文の配送業者欄にこのコードか名前があると、この業者として扱います。"))
    name = models.CharField(_("業者名"), max_length=100)
    url_pattern = models.URLField(_("追跡ページのURL"), max_length=500,
                                  help_text=_("問い合わせ番号が入る所に {number} と書きます。例: https://example.jp/track?no={number}"))

    class Meta:
        verbose_name = _("配送業者")
        verbose_name_plural = _("配送業者")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Region(models.TextChoices):
    """The prefecture groups the delivery watch counts usual delivery days for."""

    HOKKAIDO = "hokkaido", _("北海道")
    TOHOKU = "tohoku", _("東北")
    KANTO = "kanto", _("関東")
    CHUBU = "chubu", _("中部")
    KINKI = "kinki", _("近畿")
    CHUGOKU = "chugoku", _("中国")
    SHIKOKU = "shikoku", _("四国")
    KYUSHU = "kyushu", _("九州")
    OKINAWA = "okinawa", _("沖縄")


class DeliveryDays(models.Model):
    """How many days a carrier usually takes to a prefecture group; an empty group is every
    group (and an order with no prefecture) the carrier has no row of its own for."""

    carrier = models.CharField(_("配送業者"), max_length=20)
    region = models.CharField(_("地域"), max_length=10, choices=Region.choices, blank=True)
    days = models.PositiveSmallIntegerField(_("通常の日数"))

    class Meta:
        verbose_name = _("通常の配送日数")
        verbose_name_plural = _("通常の配送日数")
        ordering = ["carrier", "region"]
        constraints = [models.UniqueConstraint(fields=["carrier", "region"], name="delivery_days_unique")]

    def __str__(self) -> str:
        return f"{self.carrier} {self.get_region_display() or '*'}: {self.days}"


class CaseShop(models.Model):
    """What a case says about the shop beyond its order, product and passage (on the case):
    the order's lines it is about, how the customer understood the passage, and the order the
    desk linked by itself (shown 「自動でリンクしました」 with an undo) or an agent refused."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, primary_key=True, related_name="shop_link")
    items = models.ManyToManyField(OrderItem, blank=True, related_name="+", verbose_name=_("対象の明細"))
    understood_as = models.TextField(_("お客様の受け取り方"), blank=True)
    auto_linked_order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                          verbose_name=_("自動でリンクした注文"))
    auto_linked_at = models.DateTimeField(_("自動でリンクした日時"), null=True, blank=True)
    # Orders an agent unlinked after the desk linked them: never linked by the desk again.
    refused_orders = models.JSONField(_("リンクを取り消した注文"), default=list, blank=True)

    class Meta:
        verbose_name = _("案件の注文情報")
        verbose_name_plural = _("案件の注文情報")

    def __str__(self) -> str:
        return f"#{self.case_id}"
