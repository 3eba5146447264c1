"""Japan's 47 prefectures, the prefecture groups the delivery watch counts days for, and the
prefecture an order file names in any of the ways shop systems write it (東京都, 東京, Tokyo,
JP-13, 13)."""

from __future__ import annotations

import unicodedata

from madoguchi.shop.models import Region

# (JIS code order) name, romaji, group
PREFECTURES: list[tuple[str, str, str]] = [
    ("北海道", "hokkaido", Region.HOKKAIDO),
    ("青森県", "aomori", Region.TOHOKU), ("岩手県", "iwate", Region.TOHOKU), ("宮城県", "miyagi", Region.TOHOKU),
    ("秋田県", "akita", Region.TOHOKU), ("山形県", "yamagata", Region.TOHOKU), ("福島県", "fukushima", Region.TOHOKU),
    ("茨城県", "ibaraki", Region.KANTO), ("栃木県", "tochigi", Region.KANTO), ("群馬県", "gunma", Region.KANTO),
    ("埼玉県", "saitama", Region.KANTO), ("千葉県", "chiba", Region.KANTO), ("東京都", "tokyo", Region.KANTO),
    ("神奈川県", "kanagawa", Region.KANTO),
    ("新潟県", "niigata", Region.CHUBU), ("富山県", "toyama", Region.CHUBU), ("石川県", "ishikawa", Region.CHUBU),
    ("福井県", "fukui", Region.CHUBU), ("山梨県", "yamanashi", Region.CHUBU), ("長野県", "nagano", Region.CHUBU),
    ("岐阜県", "gifu", Region.CHUBU), ("静岡県", "shizuoka", Region.CHUBU), ("愛知県", "aichi", Region.CHUBU),
    ("三重県", "mie", Region.KINKI), ("滋賀県", "shiga", Region.KINKI), ("京都府", "kyoto", Region.KINKI),
    ("大阪府", "osaka", Region.KINKI), ("兵庫県", "hyogo", Region.KINKI), ("奈良県", "nara", Region.KINKI),
    ("和歌山県", "wakayama", Region.KINKI),
    ("鳥取県", "tottori", Region.CHUGOKU), ("島根県", "shimane", Region.CHUGOKU), ("岡山県", "okayama", Region.CHUGOKU),
    ("広島県", "hiroshima", Region.CHUGOKU), ("山口県", "yamaguchi", Region.CHUGOKU),
    ("徳島県", "tokushima", Region.SHIKOKU), ("香川県", "kagawa", Region.SHIKOKU), ("愛媛県", "ehime", Region.SHIKOKU),
    ("高知県", "kochi", Region.SHIKOKU),
    ("福岡県", "fukuoka", Region.KYUSHU), ("佐賀県", "saga", Region.KYUSHU), ("長崎県", "nagasaki", Region.KYUSHU),
    ("熊本県", "kumamoto", Region.KYUSHU), ("大分県", "oita", Region.KYUSHU), ("宮崎県", "miyazaki", Region.KYUSHU),
    ("鹿児島県", "kagoshima", Region.KYUSHU),
    ("沖縄県", "okinawa", Region.OKINAWA),
]

REGION_OF: dict[str, str] = {name: str(region) for name, _romaji, region in PREFECTURES}


def prefectures_in(region: str) -> list[str]:
    return [name for name, _romaji, group in PREFECTURES if group == region]


def _names() -> dict[str, str]:
    names: dict[str, str] = {}
    for number, (name, romaji, _region) in enumerate(PREFECTURES, start=1):
        short = name if name == "北海道" else name[:-1]
        for key in (name, short, romaji, f"{romaji}-ken", f"{romaji} prefecture", f"jp-{number:02d}", f"{number:02d}", str(number)):
            names[key] = name
    names.update({"tokyo-to": "東京都", "osaka-fu": "大阪府", "kyoto-fu": "京都府", "hokkaido-do": "北海道",
                  "hokkaidō": "北海道", "tōkyō": "東京都", "ōsaka": "大阪府", "kyōto": "京都府", "kōchi": "高知県",
                  "ōita": "大分県", "hyōgo": "兵庫県"})
    return names


NAMES = _names()


def prefecture_of(text: str) -> str:
    """The prefecture's Japanese name, or "" when the text names none: 「東京都」, 「東京」,
    "Tokyo", "JP-13", "13", and an address that starts with one (「東京都千代田区…」)."""
    folded = unicodedata.normalize("NFKC", text).strip().lower()
    if not folded:
        return ""
    if folded in NAMES:
        return NAMES[folded]
    for name, _romaji, _region in PREFECTURES:  # an address: its first characters
        if folded.startswith(name):
            return name
    return ""
