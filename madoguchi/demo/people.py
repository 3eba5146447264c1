"""Demo customers (names with kana, identities on each channel) and their order history."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from django.utils import timezone

from madoguchi.customers.models import Customer, Identity, IdentityKind
from madoguchi.customers.services import normalise_identity
from madoguchi.demo.catalogue import ITEMS, Item
from madoguchi.shop.models import Carrier, Order, OrderItem, Product

# (kanji, kana, romaji)
SURNAMES = [
    ("山田", "ヤマダ", "yamada"), ("中村", "ナカムラ", "nakamura"), ("小林", "コバヤシ", "kobayashi"),
    ("加藤", "カトウ", "kato"), ("渡辺", "ワタナベ", "watanabe"), ("伊藤", "イトウ", "ito"),
    ("山本", "ヤマモト", "yamamoto"), ("吉田", "ヨシダ", "yoshida"), ("山口", "ヤマグチ", "yamaguchi"),
    ("松本", "マツモト", "matsumoto"), ("井上", "イノウエ", "inoue"), ("木村", "キムラ", "kimura"),
    ("林", "ハヤシ", "hayashi"), ("清水", "シミズ", "shimizu"), ("山崎", "ヤマザキ", "yamazaki"),
    ("森", "モリ", "mori"), ("池田", "イケダ", "ikeda"), ("橋本", "ハシモト", "hashimoto"),
    ("阿部", "アベ", "abe"), ("石川", "イシカワ", "ishikawa"), ("前田", "マエダ", "maeda"),
    ("藤田", "フジタ", "fujita"), ("後藤", "ゴトウ", "goto"), ("岡田", "オカダ", "okada"),
    ("長谷川", "ハセガワ", "hasegawa"), ("村上", "ムラカミ", "murakami"), ("近藤", "コンドウ", "kondo"),
    ("石井", "イシイ", "ishii"), ("坂本", "サカモト", "sakamoto"), ("遠藤", "エンドウ", "endo"),
    ("青木", "アオキ", "aoki"), ("藤井", "フジイ", "fujii"), ("西村", "ニシムラ", "nishimura"),
    ("福田", "フクダ", "fukuda"), ("太田", "オオタ", "ota"), ("三浦", "ミウラ", "miura"),
    ("岡本", "オカモト", "okamoto"), ("松田", "マツダ", "matsuda"), ("中川", "ナカガワ", "nakagawa"),
    ("原田", "ハラダ", "harada"), ("小野", "オノ", "ono"), ("竹内", "タケウチ", "takeuchi"),
    ("金子", "カネコ", "kaneko"), ("和田", "ワダ", "wada"), ("中島", "ナカジマ", "nakajima"),
    ("上田", "ウエダ", "ueda"), ("野口", "ノグチ", "noguchi"), ("菅原", "スガワラ", "sugawara"),
]
GIVEN = [
    ("由美", "ユミ", "yumi"), ("恵子", "ケイコ", "keiko"), ("誠", "マコト", "makoto"), ("翔太", "ショウタ", "shota"),
    ("陽子", "ヨウコ", "yoko"), ("直樹", "ナオキ", "naoki"), ("さくら", "サクラ", "sakura"), ("美咲", "ミサキ", "misaki"),
    ("大輔", "ダイスケ", "daisuke"), ("真由美", "マユミ", "mayumi"), ("拓也", "タクヤ", "takuya"),
    ("智子", "トモコ", "tomoko"), ("裕子", "ユウコ", "yuko"), ("和也", "カズヤ", "kazuya"), ("千尋", "チヒロ", "chihiro"),
    ("彩花", "アヤカ", "ayaka"), ("浩二", "コウジ", "koji"), ("明美", "アケミ", "akemi"), ("健一", "ケンイチ", "kenichi"),
    ("早紀", "サキ", "saki"), ("亮", "リョウ", "ryo"), ("久美子", "クミコ", "kumiko"), ("奈々", "ナナ", "nana"),
    ("隆", "タカシ", "takashi"), ("結衣", "ユイ", "yui"), ("文子", "フミコ", "fumiko"), ("修", "オサム", "osamu"),
    ("麻衣", "マイ", "mai"), ("俊介", "シュンスケ", "shunsuke"), ("理恵", "リエ", "rie"), ("優子", "ユウコ", "yuko"),
    ("悠斗", "ユウト", "yuto"), ("香織", "カオリ", "kaori"), ("正人", "マサト", "masato"), ("愛", "アイ", "ai"),
    ("典子", "ノリコ", "noriko"), ("一郎", "イチロウ", "ichiro"), ("沙織", "サオリ", "saori"),
]
MAIL_DOMAINS = ["example.jp", "example.ne.jp", "example.co.jp", "mail.example.jp", "example.com"]
CARRIERS = [Carrier.YAMATO] * 5 + [Carrier.SAGAWA] * 3 + [Carrier.JAPANPOST] * 2 + [Carrier.SEINO]
SHIPPING_YEN = 550
FREE_SHIPPING_FROM_YEN = 5500


@dataclass
class Person:
    customer: Customer
    romaji: str
    kinds: set[str] = field(default_factory=set)
    orders: list[Order] = field(default_factory=list)

    @property
    def family(self) -> str:
        return self.customer.name.split(" ")[0]


def make_people(rng: random.Random, count: int) -> list[Person]:
    """`count` customers with distinct names; everyone has an email, most a phone, some LINE or X."""
    pairs = [(s, g) for s in SURNAMES for g in GIVEN]
    rng.shuffle(pairs)
    people, identities = [], []
    taken = set(Identity.objects.values_list("kind", "value"))  # a real shop may know some already
    for n, (surname, given) in enumerate(pairs[:count]):
        customer = Customer.objects.create(name=f"{surname[0]} {given[0]}", kana=f"{surname[1]} {given[1]}")
        person = Person(customer, f"{given[2]}.{surname[2]}")
        values = {IdentityKind.EMAIL: _email(rng, given[2], surname[2], n)}
        if rng.random() < 0.8:
            values[IdentityKind.PHONE] = f"{rng.choice(['090', '080', '070'])}-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"
        if rng.random() < 0.3:
            values[IdentityKind.LINE] = "U" + "".join(rng.choice("0123456789abcdef") for _ in range(32))
        if rng.random() < 0.25:
            values[IdentityKind.X] = rng.choice([f"{given[2]}_{rng.randint(10, 99)}", f"{given[2]}{surname[2][:3]}", f"kurashi_{given[2]}"])
        for kind, value in values.items():
            value = normalise_identity(kind, value)
            if (kind, value) in taken:
                continue
            taken.add((kind, value))
            identities.append(Identity(customer=customer, kind=kind, value=value))
            person.kinds.add(kind)
        people.append(person)
    Identity.objects.bulk_create(identities)
    return people


def _email(rng: random.Random, given: str, surname: str, n: int) -> str:
    local = rng.choice([f"{given}.{surname}", f"{surname}{given[0]}{n}", f"{given}_{rng.randint(1970, 2002)}", f"{given}{n:03d}"])
    return f"{local}@{rng.choice(MAIL_DOMAINS)}"


def tracking_number(rng: random.Random, carrier: str) -> str:
    """Numbers shaped like each carrier's (伝票番号): Yamato 4-4-4, Sagawa 12 digits, …"""
    digits = "".join(rng.choice("0123456789") for _ in range(12))
    if carrier == Carrier.YAMATO:
        return f"{digits[:4]}-{digits[4:8]}-{digits[8:]}"
    if carrier == Carrier.SEINO:
        return digits[:10]
    return digits


class OrderBook:
    """Creates orders with consecutive numbers (KB-YYMMDD-NNNN), items, carrier and tracking."""

    def __init__(self, rng: random.Random, products: dict[str, Product]) -> None:
        self.rng, self.products, self.seq = rng, products, 1000 + rng.randint(0, 500)
        self.items: list[OrderItem] = []

    def order(self, person: Person, ordered_at: dt.datetime, main: Item | None = None,
              delivered: bool = True, ship_days: int | None = None, carrier: str = "") -> Order:
        rng = self.rng
        chosen = [main] if main else []
        extras = [item for item in ITEMS if item not in chosen]
        chosen += rng.sample(extras, rng.choice([0, 0, 1, 1, 2]) if chosen else rng.choice([1, 1, 2, 3]))
        lines = [(item, rng.choice([1, 1, 1, 2])) for item in chosen]
        amount = sum(item.price * quantity for item, quantity in lines)
        amount += 0 if amount >= FREE_SHIPPING_FROM_YEN else SHIPPING_YEN
        carrier = carrier or rng.choice(CARRIERS)
        shipped = ordered_at + dt.timedelta(days=ship_days if ship_days is not None else rng.choice([1, 1, 2, 3]), hours=rng.randint(1, 6))
        arrived = shipped + dt.timedelta(days=rng.choice([1, 1, 2]), hours=rng.randint(0, 8))
        now = timezone.now()
        self.seq += rng.randint(1, 9)
        order = Order.objects.create(
            number=f"KB-{timezone.localtime(ordered_at):%y%m%d}-{self.seq:04d}", customer=person.customer,
            ordered_at=ordered_at, shipped_at=shipped if shipped < now else None,
            delivered_at=arrived if delivered and arrived < now else None,
            carrier=carrier, tracking_number=tracking_number(rng, carrier), amount_yen=amount,
        )
        self.items += [
            OrderItem(order=order, product=self.products[item.sku], quantity=quantity, unit_price_yen=item.price)
            for item, quantity in lines
        ]
        person.orders.append(order)
        return order

    def flush(self) -> None:
        OrderItem.objects.bulk_create(self.items)
        self.items = []
