"""Order files as shops export them: Shopify's order export, BASE's 注文 CSV and Madoguchi's
generic format (docs/import-orders.md). Knows nothing of the database: a file becomes a stream
of `ParsedOrder`s, and of `Problem`s for what could not be read, each with its line number.

The encoding is found from the bytes (UTF-8 with or without BOM, else CP932, Windows' Shift_JIS),
the format from the header row. Rows of one order follow each other (one row per line item);
the order's own fields are read from its first row."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import IO, Any

from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.shop.models import Carrier, OrderSource, OrderStatus
from madoguchi.shop.prefectures import prefecture_of

CHUNK = 1 << 20


class OrderFileError(ValueError):
    """Why a whole file cannot be read; shown to the admin as it is (Japanese)."""


@dataclass(frozen=True)
class Item:
    sku: str
    name: str
    quantity: int
    unit_price_yen: int


@dataclass
class ParsedOrder:
    line: int  # the line number of the order's first row (the header is line 1)
    external_id: str
    number: str
    customer_name: str
    email: str
    phone: str
    # Only the fields the file carries: a field it has no column for is left as it is.
    fields: dict[str, Any]
    items: list[Item] = field(default_factory=list)
    customer_kana: str = ""


@dataclass(frozen=True)
class Problem:
    line: int
    reason: str


class RowError(ValueError):
    pass


# --- values ----------------------------------------------------------------------------------


def fold(text: str) -> str:
    """A header or keyword as compared: NFKC (full-width → half-width), lower case, single spaces."""
    return " ".join(unicodedata.normalize("NFKC", text).replace("\ufeff", "").lower().split())


_DATE = re.compile(
    r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)


def parse_datetime(text: str, what: str) -> dt.datetime | None:
    """A date and time as shop systems and spreadsheets write them: 2024-05-01 10:00:00 +0900,
    2024/5/1 9:05, 2024-05-01T10:00:00Z, 2024-05-01. Without a zone it is the shop's time."""
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        return None
    match = _DATE.match(text)
    if match is None:
        raise RowError(_("%(what)s「%(value)s」を日時として読めません（例: 2024-05-01 10:00）。") % {"what": what, "value": text[:40]})
    year, month, day, hour, minute, second, zone = match.groups()
    try:
        value = dt.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError as error:
        raise RowError(_("%(what)s「%(value)s」は存在しない日時です。") % {"what": what, "value": text[:40]}) from error
    if zone is None:
        return timezone.make_aware(value, timezone.get_default_timezone())
    if zone == "Z":
        return value.replace(tzinfo=dt.UTC)
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    offset = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    if offset >= dt.timedelta(hours=24):
        raise RowError(_("%(what)s「%(value)s」の時差が正しくありません。") % {"what": what, "value": text[:40]})
    return value.replace(tzinfo=dt.timezone(sign * offset))


def parse_yen(text: str, what: str) -> int:
    """An amount of yen: 1980, 1,980, ¥1,980, 1980.00, １９８０円. Empty is 0."""
    cleaned = unicodedata.normalize("NFKC", text).strip().replace(",", "").replace("¥", "").replace("円", "").strip()
    cleaned = cleaned.replace("\\", "")  # ¥ in Shift_JIS fonts is the backslash
    if not cleaned:
        return 0
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as error:
        raise RowError(_("%(what)s「%(value)s」を金額として読めません。") % {"what": what, "value": text[:40]}) from error
    if not amount.is_finite() or amount < 0 or amount >= 10**9:
        raise RowError(_("%(what)s「%(value)s」は金額として使えません。") % {"what": what, "value": text[:40]})
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_quantity(text: str) -> int:
    cleaned = unicodedata.normalize("NFKC", text).strip()
    if not cleaned:
        return 1
    if not cleaned.isdigit() or int(cleaned) > 100_000:
        raise RowError(_("数量「%(value)s」を個数として読めません。") % {"value": text[:40]})
    return int(cleaned)


_CARRIER_WORDS = [
    (Carrier.YAMATO, ("yamato", "ヤマト", "クロネコ", "宅急便", "ネコポス")),
    (Carrier.SAGAWA, ("sagawa", "佐川", "飛脚")),
    (Carrier.JAPANPOST, ("japan post", "japanpost", "日本郵便", "ゆうパック", "ゆうパケット", "ゆうメール", "レターパック", "クリックポスト")),
    (Carrier.SEINO, ("seino", "西濃", "カンガルー")),
    (Carrier.FUKUYAMA, ("fukuyama", "福山")),
]


CARRIER_NAMED = "carrier_named"  # an unknown carrier's name as the file wrote it (not an order field)


def carrier_of(text: str) -> str | None:
    """The carrier named in a carrier column or a shipping method ("ヤマト運輸 宅急便",
    "Yamato (JA)", "sagawa"); None when no known carrier is named."""
    folded = fold(text)
    for carrier, words in _CARRIER_WORDS:
        if any(word in folded for word in words):
            return str(carrier)
    return None


def tracking_number(text: str) -> str:
    """Tracking numbers as carriers print them (1234-5678-9012, full-width) kept as one word."""
    return re.sub(r"[\s\-‐‑–—−]", "", unicodedata.normalize("NFKC", text))[:50]


# --- formats ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Format:
    source: str
    signature: tuple[str, ...]  # folded headers that must all be there
    columns: dict[str, tuple[str, ...]]  # field → folded header names it may have
    read: Callable[[Row, int], ParsedOrder]  # the order from its first row
    item: Callable[[Row], Item]
    finish: Callable[[ParsedOrder], None]  # what needs all the order's rows (its total)


class Row:
    """One CSV row, read by field name through the header's positions."""

    __slots__ = ("cells", "positions")

    def __init__(self, cells: list[str], positions: dict[str, int]) -> None:
        self.cells, self.positions = cells, positions

    def __getitem__(self, name: str) -> str:
        index = self.positions.get(name)
        if index is None or index >= len(self.cells):
            return ""
        return self.cells[index].strip()

    def has(self, name: str) -> bool:
        return name in self.positions


def order_status(cancelled: bool, refunded: bool, fulfilled: bool, pending: bool) -> str:
    if cancelled:
        return str(OrderStatus.CANCELLED)
    if refunded:
        return str(OrderStatus.REFUNDED)
    if fulfilled:
        return str(OrderStatus.FULFILLED)
    return str(OrderStatus.PENDING if pending else OrderStatus.PAID)


def _tracking_fields(row: Row, fields: dict[str, Any], method: str = "") -> None:
    """Carrier and tracking number, only when the file has a column for them (a shipping
    method that names a carrier counts for the carrier)."""
    if row.has("tracking"):
        fields["tracking_number"] = tracking_number(row["tracking"])
    if row.has("carrier"):
        named = row["carrier"]
        fields["carrier"] = (carrier_of(named) or str(Carrier.OTHER)) if named else ""
        if named and fields["carrier"] == Carrier.OTHER:
            fields[CARRIER_NAMED] = named  # may be a carrier the admin added (importer.import_orders)
    elif method and carrier_of(method):
        fields["carrier"] = carrier_of(method)


PREFECTURE_COLUMNS = ("prefecture", "prefecture_code", "shipping_address")


def _prefecture_field(row: Row, fields: dict[str, Any]) -> None:
    """The shipping prefecture (for the delivery watch), when the file has a column for it: a
    name, a code (JP-13) or an address that starts with one."""
    columns = [name for name in PREFECTURE_COLUMNS if row.has(name)]
    if columns:
        fields["shipping_prefecture"] = next((found for found in (prefecture_of(row[name]) for name in columns) if found), "")


# Shopify: Admin → Orders → Export ("orders_export.csv"), one row per line item; the order's
# fields are on its first row. Both spellings Shopify has used are accepted.
SHOPIFY_COLUMNS: dict[str, tuple[str, ...]] = {
    "key": ("name",),
    "email": ("email",),
    "financial": ("financial status",),
    "paid_at": ("paid at",),
    "fulfillment": ("fulfillment status",),
    "fulfilled_at": ("fulfilled at",),
    "currency": ("currency",),
    "total": ("total",),
    "method": ("shipping method",),
    "created_at": ("created at",),
    "quantity": ("lineitem quantity",),
    "item_name": ("lineitem name",),
    "price": ("lineitem price",),
    "sku": ("lineitem sku",),
    "billing_name": ("billing name",),
    "billing_phone": ("billing phone",),
    "shipping_name": ("shipping name",),
    "shipping_phone": ("shipping phone",),
    "phone": ("phone",),
    "cancelled_at": ("cancelled at", "canceled at"),
    "refunded": ("refunded amount",),
    "id": ("id",),
    # Not in Shopify's own export; apps that add fulfilment columns write these.
    "tracking": ("tracking number", "fulfillment: tracking number", "tracking numbers"),
    "carrier": ("tracking company", "fulfillment: tracking company"),
    "prefecture": ("shipping province name",),
    "prefecture_code": ("shipping province",),
}


def _shopify_order(row: Row, line: int) -> ParsedOrder:
    financial, fulfilment = row["financial"].lower(), row["fulfillment"].lower()
    cancelled_at = parse_datetime(row["cancelled_at"], "Cancelled at")
    fields: dict[str, Any] = {
        "ordered_at": parse_datetime(row["created_at"], "Created at"),
        "status": order_status(cancelled_at is not None or financial == "voided", financial == "refunded",
                          fulfilment == "fulfilled", financial in ("pending", "authorized", "partially_paid", "")),
        "shipped_at": parse_datetime(row["fulfilled_at"], "Fulfilled at"),
        "cancelled_at": cancelled_at,
        "amount_yen": parse_yen(row["total"], "Total"),
        "refunded_yen": parse_yen(row["refunded"], "Refunded Amount"),
    }
    _tracking_fields(row, fields, row["method"])
    _prefecture_field(row, fields)
    name = row["key"]
    return ParsedOrder(
        line=line, external_id=name, number=name.lstrip("#"),
        customer_name=row["billing_name"] or row["shipping_name"], email=row["email"],
        phone=row["phone"] or row["billing_phone"] or row["shipping_phone"], fields=fields,
    )


def _shopify_item(row: Row) -> Item:
    return Item(sku=row["sku"], name=row["item_name"], quantity=parse_quantity(row["quantity"]),
                unit_price_yen=parse_yen(row["price"], "Lineitem price"))


# BASE: 注文管理 → CSV出力. BASE publishes no column reference; these are the headers its
# export is seen to have (docs/import-orders.md says where they come from). One row per item.
BASE_COLUMNS: dict[str, tuple[str, ...]] = {
    "key": ("注文id",),
    "ordered_at": ("注文日時",),
    "last_name": ("氏(請求先)",),
    "first_name": ("名(請求先)",),
    "phone": ("電話番号(請求先)",),
    "email": ("メールアドレス(請求先)",),
    "item_name": ("商品名",),
    "variation": ("バリエーション",),
    "price": ("価格",),
    "quantity": ("数量",),
    "line_total": ("合計金額",),
    "shipping": ("送料",),
    "cod_fee": ("代引き手数料",),
    "adjustment": ("調整金額",),
    "state": ("発送状況",),
    "product_id": ("商品id",),
    "variation_id": ("種類id",),
    "product_code": ("商品コード",),
    "variation_code": ("種類コード",),
    # Not in BASE's export as seen; accepted when a shop adds them.
    "shipped_at": ("発送日時", "発送日"),
    "cancelled_at": ("キャンセル日時",),
    "refunded": ("返金額",),
    "tracking": ("追跡番号", "問い合わせ番号", "お問い合わせ番号", "伝票番号"),
    "carrier": ("配送業者", "配送会社"),
    "prefecture": ("都道府県(配送先)", "配送先都道府県"),
    "shipping_address": ("住所(配送先)",),
}


def _base_status(state: str) -> str:
    folded = fold(state)
    return order_status("キャンセル" in folded, "返金" in folded, "発送済" in folded or "対応済" in folded,
                   "入金待" in folded or "未入金" in folded)


def _base_order(row: Row, line: int) -> ParsedOrder:
    fields: dict[str, Any] = {
        "ordered_at": parse_datetime(row["ordered_at"], "注文日時"),
        "status": _base_status(row["state"]),
    }
    if row.has("shipped_at"):
        fields["shipped_at"] = parse_datetime(row["shipped_at"], "発送日時")
    if row.has("cancelled_at"):
        fields["cancelled_at"] = parse_datetime(row["cancelled_at"], "キャンセル日時")
    if row.has("refunded"):
        fields["refunded_yen"] = parse_yen(row["refunded"], "返金額")
    _tracking_fields(row, fields)
    _prefecture_field(row, fields)
    # The order's charges beside its items, added to the item totals by _finish.
    fields["amount_yen"] = (parse_yen(row["shipping"], "送料") + parse_yen(row["cod_fee"], "代引き手数料")
                            + _signed_yen(row["adjustment"], "調整金額"))  # the items are added by _add_items
    return ParsedOrder(
        line=line, external_id=row["key"], number=row["key"],
        customer_name=f"{row['last_name']} {row['first_name']}".strip(), email=row["email"], phone=row["phone"],
        fields=fields,
    )


def _add_items(order: ParsedOrder) -> None:
    """BASE: the order's total is its items (価格 × 数量) plus its charges (送料, 代引き手数料,
    調整金額). Generic files without 合計金額: the items."""
    items = sum(item.unit_price_yen * item.quantity for item in order.items)
    order.fields["amount_yen"] = max(0, order.fields.get("amount_yen", 0) + items)


def _as_given(order: ParsedOrder) -> None:
    pass


def _generic_finish(order: ParsedOrder) -> None:
    if "amount_yen" not in order.fields:
        _add_items(order)


def _signed_yen(text: str, what: str) -> int:
    cleaned = unicodedata.normalize("NFKC", text).strip()
    if cleaned.startswith(("-", "−")):
        return -parse_yen(cleaned[1:], what)
    return parse_yen(cleaned, what)


def _base_item(row: Row) -> Item:
    name = row["item_name"]
    if row["variation"]:
        name = f"{name}（{row['variation']}）"
    sku = row["variation_code"] or row["product_code"]
    if not sku and row["product_id"]:
        sku = "-".join(part for part in ("BASE", row["product_id"], row["variation_id"]) if part)
    return Item(sku=sku, name=name, quantity=parse_quantity(row["quantity"]),
                unit_price_yen=parse_yen(row["price"], "価格"))


# Madoguchi's generic format (docs/import-orders.md): Japanese headers, English ones accepted.
GENERIC_COLUMNS: dict[str, tuple[str, ...]] = {
    "key": ("注文番号", "order number"),
    "ordered_at": ("注文日時", "ordered at"),
    "name": ("お名前", "お客様名", "name"),
    "kana": ("フリガナ", "kana"),
    "email": ("メールアドレス", "email"),
    "phone": ("電話番号", "phone"),
    "state": ("状態", "status"),
    "shipped_at": ("発送日時", "shipped at"),
    "cancelled_at": ("キャンセル日時", "cancelled at"),
    "tracking": ("問い合わせ番号", "tracking number"),
    "carrier": ("配送業者", "carrier"),
    "total": ("合計金額", "total"),
    "refunded": ("返金額", "refunded"),
    "sku": ("商品コード", "sku"),
    "item_name": ("商品名", "product name"),
    "quantity": ("数量", "quantity"),
    "price": ("単価", "unit price"),
    "prefecture": ("配送先の都道府県", "都道府県", "prefecture"),
}

GENERIC_STATES = {
    **dict.fromkeys(("入金待ち", "未入金", "pending"), OrderStatus.PENDING),
    **dict.fromkeys(("支払い済み", "支払済み", "支払済", "入金済み", "入金済", "paid"), OrderStatus.PAID),
    **dict.fromkeys(("発送済み", "発送済", "fulfilled", "shipped"), OrderStatus.FULFILLED),
    **dict.fromkeys(("キャンセル", "cancelled", "canceled"), OrderStatus.CANCELLED),
    **dict.fromkeys(("返金済み", "返金済", "返金", "refunded"), OrderStatus.REFUNDED),
}


def _generic_order(row: Row, line: int) -> ParsedOrder:
    fields: dict[str, Any] = {"ordered_at": parse_datetime(row["ordered_at"], "注文日時")}
    if row.has("state"):
        state = GENERIC_STATES.get(fold(row["state"]))
        if state is None and row["state"]:
            raise RowError(_("状態「%(value)s」は使えません（入金待ち・支払い済み・発送済み・キャンセル・返金済み）。")
                           % {"value": row["state"][:40]})
        fields["status"] = str(state or OrderStatus.PAID)
    for name, what in (("shipped_at", "発送日時"), ("cancelled_at", "キャンセル日時")):
        if row.has(name):
            fields[name] = parse_datetime(row[name], what)
    if row.has("total"):
        fields["amount_yen"] = parse_yen(row["total"], "合計金額")
    if row.has("refunded"):
        fields["refunded_yen"] = parse_yen(row["refunded"], "返金額")
    _tracking_fields(row, fields)
    _prefecture_field(row, fields)
    return ParsedOrder(line=line, external_id=row["key"], number=row["key"], customer_name=row["name"],
                       email=row["email"], phone=row["phone"], fields=fields, customer_kana=row["kana"])


def _generic_item(row: Row) -> Item:
    return Item(sku=row["sku"], name=row["item_name"], quantity=parse_quantity(row["quantity"]),
                unit_price_yen=parse_yen(row["price"], "単価"))


FORMATS = [
    Format(str(OrderSource.SHOPIFY), ("name", "created at", "lineitem quantity", "lineitem name"),
           SHOPIFY_COLUMNS, _shopify_order, _shopify_item, _as_given),
    Format(str(OrderSource.BASE), ("注文id", "注文日時", "氏(請求先)", "商品名", "数量"),
           BASE_COLUMNS, _base_order, _base_item, _add_items),
    Format(str(OrderSource.GENERIC), ("注文番号", "注文日時", "数量"), GENERIC_COLUMNS, _generic_order, _generic_item,
           _generic_finish),
    Format(str(OrderSource.GENERIC), ("order number", "ordered at", "quantity"), GENERIC_COLUMNS, _generic_order,
           _generic_item, _generic_finish),
]


def detect_format(header: list[str]) -> tuple[Format, dict[str, int]]:
    folded = [fold(cell) for cell in header]
    present = set(folded)
    for candidate in FORMATS:
        if all(name in present for name in candidate.signature):
            positions: dict[str, int] = {}
            for name, headers in candidate.columns.items():
                for index, cell in enumerate(folded):
                    if cell in headers:
                        positions[name] = index
                        break
            return candidate, positions
    shown = "、".join(cell for cell in header[:8] if cell.strip())[:200]
    raise OrderFileError(
        _("注文ファイルの形式を判別できません。1行目の見出しが Shopify の注文エクスポート、BASE の注文CSV、"
          "または窓口の汎用形式（注文番号・注文日時・数量…）のものか確認してください。1行目: %(header)s")
        % {"header": shown or _("（空）")}
    )


# --- encoding --------------------------------------------------------------------------------


def _decodes(handle: IO[bytes], encoding: str) -> tuple[bool, int]:
    """(whether the whole file decodes, the line of the first byte that does not)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    lines = 1
    handle.seek(0)
    while chunk := handle.read(CHUNK):
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as error:
            return False, lines + chunk[: error.start].count(b"\n")
        lines += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False, lines
    return True, lines


def detect_encoding(handle: IO[bytes]) -> str:
    """utf-8-sig for UTF-8 with a BOM, utf-8, or cp932 (Shift_JIS as Windows and Excel write it)."""
    handle.seek(0)
    if handle.read(3) == codecs.BOM_UTF8:
        encoding = "utf-8-sig"
    else:
        encoding = "utf-8"
    fine, _line = _decodes(handle, encoding)
    if not fine:
        fine, line = _decodes(handle, "cp932")
        if not fine:
            raise OrderFileError(
                _("ファイルの文字コードを読めません（%(line)s 行目付近）。UTF-8 または Shift_JIS（CP932）で保存した CSV を選んでください。")
                % {"line": line}
            )
        encoding = "cp932"
    handle.seek(0)
    return encoding


# --- reading ---------------------------------------------------------------------------------


@dataclass
class OrderFile:
    """An opened order file: its encoding and format are known, its orders are read lazily."""

    handle: IO[bytes]
    encoding: str
    format: Format
    positions: dict[str, int]
    size: int

    @property
    def source(self) -> str:
        return self.format.source

    def position(self) -> int:
        return self.handle.tell()

    def orders(self) -> Iterator[ParsedOrder | Problem]:
        import io

        self.handle.seek(0)
        text = io.TextIOWrapper(self.handle, encoding=self.encoding, newline="")  # type: ignore[type-var]
        try:
            yield from self._orders(csv.reader(text))
        finally:
            text.detach()

    def _orders(self, reader: Any) -> Iterator[ParsedOrder | Problem]:
        read_order, read_item, finish = self.format.read, self.format.item, self.format.finish
        positions = self.positions
        try:
            next(reader)  # the header
        except StopIteration:
            return
        current: ParsedOrder | None = None
        broken: Problem | None = None
        key = ""
        seen: set[str] = set()
        end = reader.line_num
        try:
            for cells in reader:
                line, end = end + 1, reader.line_num
                if not any(cell.strip() for cell in cells):
                    continue
                row = Row(cells, positions)
                row_key = row["key"]
                if not row_key:
                    # Shopify leaves Name empty on no row; older exports and hand-made files
                    # may: a row without a key belongs to the order above it.
                    if current is None and broken is None:
                        yield Problem(line, _("注文番号がありません。"))
                        continue
                    row_key = key
                if row_key != key:
                    if current is not None:
                        finish(current)
                        yield current
                    elif broken is not None:
                        yield broken
                    current, broken, key = None, None, row_key
                    if row_key in seen:
                        broken = Problem(line, _("注文 %(key)s の行が、同じ注文のほかの行と離れています（同じ注文の行は続けて並べてください）。") % {"key": row_key[:60]})
                        continue
                    seen.add(row_key)
                    try:
                        current = read_order(row, line)
                        if current.fields.get("ordered_at") is None:
                            raise RowError(_("注文日時が空です。"))
                        if len(current.number) > 50 or len(current.external_id) > 100:
                            raise RowError(_("注文番号が長すぎます（50文字まで）。"))
                    except RowError as error:
                        current, broken = None, Problem(line, str(error))
                        continue
                if current is None:
                    continue  # the order is already broken: its other rows are skipped with it
                try:
                    item = read_item(row)
                    if len(item.sku) > 50:
                        raise RowError(_("商品コード「%(value)s」が長すぎます（50文字まで）。") % {"value": item.sku[:60]})
                    current.items.append(item)
                except RowError as error:
                    current, broken = None, Problem(line, str(error))
        except csv.Error as error:
            yield Problem(end + 1, _("CSV として読めない行があるため、ここで読むのをやめました: %(error)s") % {"error": error})
            return
        if current is not None:
            finish(current)
            yield current
        elif broken is not None:
            yield broken


def open_order_file(handle: IO[bytes]) -> OrderFile:
    """The file's encoding and format (OrderFileError, in Japanese, when it has neither)."""
    handle.seek(0, 2)
    size = handle.tell()
    if size == 0:
        raise OrderFileError(_("ファイルが空です。"))
    encoding = detect_encoding(handle)
    head = handle.read(min(size, 256 * 1024)).decode(encoding, errors="ignore")
    handle.seek(0)
    try:
        header = next(csv.reader(head.splitlines()[:1] or [""]))
    except (StopIteration, csv.Error):
        header = []
    found, positions = detect_format(header)
    return OrderFile(handle=handle, encoding=encoding, format=found, positions=positions, size=size)
