"""What a message is about, found in its text: order numbers, carriers, the shop's products.

Plain string work on the NFKC-folded text (knowledge/text.py's fold), so ＫＭ－１００１２３ and
km-100123 are the same number; no backtracking patterns (a customer's text is a stranger's)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from madoguchi.knowledge.text import fold

# Shop.Carrier codes by the names customers write (クロネコ is ヤマト; ゆうパック is 日本郵便).
CARRIER_NAMES = {
    "yamato": ("ヤマト", "クロネコ", "宅急便"),
    "sagawa": ("佐川", "飛脚"),
    "japanpost": ("日本郵便", "ゆうパック", "ゆうパケット", "郵便局", "レターパック"),
    "seino": ("西濃", "カンガルー便"),
    "fukuyama": ("福山通運",),
}
# An order number as customers quote it: after 注文番号 / order / #, or letters-digits codes
# (KM-100123, ORD-2026-0001) and long digit runs (20260512-0034).
_AFTER_LABEL = re.compile(r"(?:注文番号|ご注文番号|受注番号|order\s*(?:no\.?|number|#)?|#|no\.)\s*[:：]?\s*([0-9a-z][0-9a-z\-]{2,30})")
_CODE = re.compile(r"(?<![0-9a-z])([a-z]{1,5}-?[0-9]{3,}(?:-[0-9]+)*)(?![0-9a-z])")
_DIGITS = re.compile(r"(?<![0-9])([0-9]{6,}(?:-[0-9]{2,})?)(?![0-9])")
_PHONE = re.compile(r"^0[0-9]{9,10}$")


def order_numbers(text: str) -> list[str]:
    folded = fold(text)
    found = [m.group(1) for m in _AFTER_LABEL.finditer(folded)]
    found += [m.group(1) for m in _CODE.finditer(folded)]
    found += [m.group(1) for m in _DIGITS.finditer(folded)]
    numbers = list(dict.fromkeys(n.upper() for n in found if not _PHONE.match(n.replace("-", ""))))
    # KM-204518 also matches as 204518: keep the whole number only.
    return [n for n in numbers if not any(n != other and n in other for other in numbers)]


def carriers(text: str) -> list[str]:
    folded = fold(text)
    return [code for code, names in CARRIER_NAMES.items() if any(fold(name) in folded for name in names)]


def products(text: str, names: Iterable[tuple[int, str]]) -> list[int]:
    """The ids of the products whose name (at least 2 characters) the text contains."""
    folded = fold(text)
    return [pk for pk, name in names if len(name.strip()) >= 2 and fold(name.strip()) in folded]
