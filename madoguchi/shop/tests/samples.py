"""Order files as the shop systems write them, for the import tests and bench/import_orders_bench.py:
Shopify's full orders_export header (one row per line item, the order's fields on its first
row), BASE's 注文 CSV in CP932, and the generic format of docs/import-orders.md."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

SHOPIFY_HEADER = (
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,Subtotal,"
    "Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,Lineitem name,"
    "Lineitem price,Lineitem compare at price,Lineitem sku,Lineitem requires shipping,Lineitem taxable,"
    "Lineitem fulfillment status,Billing Name,Billing Street,Billing Address1,Billing Address2,Billing Company,"
    "Billing City,Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,Shipping Street,"
    "Shipping Address1,Shipping Address2,Shipping Company,Shipping City,Shipping Zip,Shipping Province,"
    "Shipping Country,Shipping Phone,Notes,Note Attributes,Cancelled at,Payment Method,Payment Reference,"
    "Refunded Amount,Vendor,Outstanding Balance,Employee,Location,Device ID,Id,Tags,Risk Level,Source,"
    "Lineitem discount,Tax 1 Name,Tax 1 Value,Tax 2 Name,Tax 2 Value,Tax 3 Name,Tax 3 Value,Tax 4 Name,"
    "Tax 4 Value,Tax 5 Name,Tax 5 Value,Phone,Receipt Number,Duties,Billing Province Name,Shipping Province Name,"
    "Payment ID,Payment Terms Name,Next Payment Due At,Payment References"
).split(",")

BASE_HEADER = (
    "注文ID,注文日時,氏(請求先),名(請求先),郵便番号(請求先),都道府県(請求先),住所(請求先),住所2(請求先),"
    "電話番号(請求先),メールアドレス(請求先),氏(配送先),名(配送先),郵便番号(配送先),都道府県(配送先),住所(配送先),"
    "住所2(配送先),電話番号(配送先),備考,商品名,バリエーション,価格,税率,数量,合計金額,送料,支払い方法,代引き手数料,"
    "発送状況,商品ID,種類ID,購入元,配送日,配送時間帯,注文メモ,調整金額"
).split(",")

GENERIC_HEADER = ["注文番号", "注文日時", "お名前", "フリガナ", "メールアドレス", "電話番号", "状態", "発送日時",
                  "配送業者", "問い合わせ番号", "キャンセル日時", "返金額", "合計金額", "商品コード", "商品名", "数量", "単価"]

JST = dt.timezone(dt.timedelta(hours=9))


@dataclass
class SampleItem:
    sku: str
    name: str
    quantity: int
    price: int


@dataclass
class SampleOrder:
    number: str
    name: str
    email: str
    phone: str
    created: dt.datetime
    items: list[SampleItem]
    kana: str = ""
    financial: str = "paid"  # Shopify's Financial Status
    fulfilled_at: dt.datetime | None = None
    cancelled_at: dt.datetime | None = None
    refunded: int = 0
    shipping: int = 600
    method: str = "ヤマト運輸 宅急便"
    tracking: str = ""
    carrier: str = ""
    note: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(item.price * item.quantity for item in self.items) + self.shipping


def _shopify_time(value: dt.datetime | None) -> str:
    return value.astimezone(JST).strftime("%Y-%m-%d %H:%M:%S +0900") if value else ""


def shopify_rows(order: SampleOrder) -> Iterator[list[str]]:
    for index, item in enumerate(order.items):
        row = dict.fromkeys(SHOPIFY_HEADER, "")
        row.update({"Name": f"#{order.number}", "Email": order.email, "Created at": _shopify_time(order.created),
                    "Lineitem quantity": str(item.quantity), "Lineitem name": item.name,
                    "Lineitem price": f"{item.price}", "Lineitem sku": item.sku, "Lineitem requires shipping": "true",
                    "Lineitem taxable": "true", "Vendor": "窓口テスト商店"})
        if index == 0:
            fulfilled = order.fulfilled_at is not None
            row.update({
                "Financial Status": order.financial, "Paid at": _shopify_time(order.created),
                "Fulfillment Status": "fulfilled" if fulfilled else "unfulfilled",
                "Fulfilled at": _shopify_time(order.fulfilled_at), "Accepts Marketing": "no", "Currency": "JPY",
                "Subtotal": str(order.total - order.shipping), "Shipping": str(order.shipping), "Taxes": "0",
                "Total": str(order.total), "Discount Amount": "0", "Shipping Method": order.method,
                "Billing Name": order.name, "Billing Zip": "'150-0001", "Billing Province": "JP-13",
                "Billing Country": "JP", "Billing City": "渋谷区", "Billing Address1": "神宮前1-2-3",
                "Billing Phone": order.phone, "Shipping Name": order.name, "Shipping Phone": order.phone,
                "Notes": order.note, "Cancelled at": _shopify_time(order.cancelled_at),
                "Payment Method": "Shopify Payments", "Refunded Amount": str(order.refunded),
                "Outstanding Balance": "0", "Id": str(5_000_000_000 + zlib.crc32(order.number.encode())),
                "Risk Level": "Low", "Source": "web", "Phone": order.phone,
            })
            row.update(order.extra)
        yield [row[name] for name in SHOPIFY_HEADER]


def write_shopify(out: IO[str], orders: Iterator[SampleOrder] | list[SampleOrder], header: list[str] | None = None) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header or SHOPIFY_HEADER)
    for order in orders:
        for row in shopify_rows(order):
            writer.writerow(row)


def shopify_file(orders: list[SampleOrder], extra_columns: list[str] | None = None) -> bytes:
    header = SHOPIFY_HEADER + (extra_columns or [])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for order in orders:
        for index, row in enumerate(shopify_rows(order)):
            writer.writerow(row + [order.extra.get(name, "") if index == 0 else "" for name in extra_columns or []])
    return out.getvalue().encode("utf-8")


def base_file(orders: list[SampleOrder], state: dict[str, str] | None = None) -> bytes:
    """BASE's 注文 CSV, CP932 and CRLF as it downloads; every row of an order repeats its fields."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(BASE_HEADER)
    for order in orders:
        last, _space, first = order.name.partition(" ")
        for item in order.items:
            name, _open, variation = item.name.partition("（")
            row = dict.fromkeys(BASE_HEADER, "")
            row.update({
                "注文ID": order.number, "注文日時": order.created.astimezone(JST).strftime("%Y-%m-%d %H:%M:%S"),
                "氏(請求先)": last, "名(請求先)": first, "郵便番号(請求先)": "530-0001", "都道府県(請求先)": "大阪府",
                "住所(請求先)": "大阪市北区梅田1-1-1", "電話番号(請求先)": order.phone, "メールアドレス(請求先)": order.email,
                "氏(配送先)": last, "名(配送先)": first, "商品名": name, "バリエーション": variation.rstrip("）"),
                "価格": str(item.price), "税率": "10%", "数量": str(item.quantity), "合計金額": str(item.price * item.quantity),
                "送料": str(order.shipping), "支払い方法": "クレジットカード決済", "代引き手数料": "0",
                "発送状況": (state or {}).get(order.number, "発送済み" if order.fulfilled_at else "未対応"),
                "商品ID": item.sku, "購入元": "BASE", "調整金額": "0",
            })
            writer.writerow([row[name] for name in BASE_HEADER])
    return out.getvalue().encode("cp932")


def generic_rows(orders: list[SampleOrder], status: dict[str, str]) -> list[list[str]]:
    rows = [GENERIC_HEADER]
    for order in orders:
        for index, item in enumerate(order.items):
            first = index == 0
            rows.append([
                order.number, order.created.astimezone(JST).strftime("%Y/%m/%d %H:%M"),
                order.name if first else "", order.kana if first else "", order.email if first else "",
                order.phone if first else "", status.get(order.number, "") if first else "",
                order.fulfilled_at.astimezone(JST).strftime("%Y/%m/%d %H:%M") if first and order.fulfilled_at else "",
                order.carrier if first else "", order.tracking if first else "",
                order.cancelled_at.astimezone(JST).strftime("%Y/%m/%d %H:%M") if first and order.cancelled_at else "",
                str(order.refunded) if first and order.refunded else "", str(order.total) if first else "",
                item.sku, item.name, str(item.quantity), str(item.price),
            ])
    return rows


def generic_file(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


# --- realistic shops, many orders --------------------------------------------------------------

FAMILY = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田", "佐々木",
          "山口", "松本", "井上", "木村", "林", "斎藤", "清水"]
GIVEN = ["花子", "太郎", "陽菜", "蓮", "美咲", "大翔", "結衣", "悠真", "さくら", "健一", "恵子", "翔太", "愛", "誠", "由美"]
PRODUCTS = [
    ("MUG-AI", "有田焼 マグカップ 藍", 2980), ("MUG-SHU", "有田焼 マグカップ 朱", 2980),
    ("SARA-01", "波佐見焼 小皿 5枚組", 3850), ("TEA-SEN", "八女茶 煎茶 100g", 1620),
    ("TEA-GYO", "玉露 伝統本玉露 50g", 3240), ("TOWEL-IM", "今治タオル フェイスタオル 白", 1430),
    ("HASHI-W", "若狭塗 夫婦箸 桐箱入り", 5500), ("KYUSU-T", "常滑焼 急須 朱泥", 8800),
    ("FURO-S", "檜 風呂椅子 小", 12100), ("SOAP-YZ", "柚子石鹸 3個セット", 1980),
]
METHODS = ["ヤマト運輸 宅急便", "佐川急便 飛脚宅配便", "日本郵便 ゆうパック", "ゆうパケット", "送料無料"]


def realistic_orders(count: int, seed: int = 18, start: int = 100_001) -> Iterator[SampleOrder]:
    """`count` orders of a Japanese shop over two years: 1-4 lines each, repeat customers, about
    70 % fulfilled, 3 % cancelled, 2 % refunded."""
    rng = random.Random(seed)
    begin = dt.datetime(2023, 1, 1, 9, 0, tzinfo=JST)
    people = max(count * 2 // 3, 1)
    for offset in range(count):
        person = rng.randrange(people)
        family, given = FAMILY[person % len(FAMILY)], GIVEN[(person // len(FAMILY)) % len(GIVEN)]
        created = begin + dt.timedelta(minutes=offset * 7 + rng.randrange(5))
        lines = [SampleItem(sku, name, rng.choice((1, 1, 1, 2, 3)), price)
                 for sku, name, price in rng.sample(PRODUCTS, rng.choice((1, 1, 2, 2, 3, 4)))]
        roll = rng.random()
        order = SampleOrder(
            number=str(start + offset), name=f"{family} {given}", email=f"customer{person}@example.jp",
            phone=f"090-{person // 10000 % 10000:04d}-{person % 10000:04d}", created=created, items=lines,
            method=rng.choice(METHODS),
        )
        if roll < 0.03:
            order.cancelled_at, order.financial = created + dt.timedelta(hours=5), "voided"
        elif roll < 0.05:
            order.fulfilled_at, order.financial = created + dt.timedelta(days=1), "refunded"
            order.refunded = order.total
        elif roll < 0.75:
            order.fulfilled_at = created + dt.timedelta(days=1, hours=rng.randrange(24))
        yield order
