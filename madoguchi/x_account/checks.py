"""What the desk checks before a public reply goes on X: its length as X counts it, and that it
names nothing personal (SPEC §5: a public post is read by everyone, for ever).

Length (X's counting, twitter-text v3): a character in the ranges X weighs 1 (U+0000–U+10FF:
Latin, digits, ASCII punctuation; U+2000–U+200D, U+2010–U+201F, U+2032–U+2037) counts 1, every
other character (kana, kanji, full-width forms, emoji) counts 2, and each URL counts 23 however
long. A post may weigh 280: 140 full-width characters. The desk warns past that and holds the
reply until the agent confirms (an X Premium account may post longer).

Personal data: phone numbers, e-mail addresses, order and tracking numbers, postal codes and
street addresses. A public reply naming one is refused with a message suggesting a DM; the
check runs on the NFKC-folded text, so full-width digits are caught too."""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext as _

from madoguchi.logs import EMAIL
from madoguchi.triage.entities import order_numbers

MAX_WEIGHT = 280
URL_WEIGHT = 23
_LIGHT = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
_URL = re.compile(r"https?://[^\s　]+", re.IGNORECASE)
# A Japanese phone number: 0 and 9 or 10 more digits, or +81, in groups split by hyphens,
# spaces or dots (03-1234-5678, 090 1234 5678, +81-90-1234-5678, 0120-123-456).
_PHONE = re.compile(r"(?<![0-9])(?:\+81[\s.-]?[1-9]|0[0-9])[0-9]{0,3}(?:[\s.-]?[0-9]{1,4}){2,3}(?![0-9])")
_POSTAL = re.compile(r"(?:〒\s*[0-9]{3}-?[0-9]{4}|(?<![0-9-])[0-9]{3}-[0-9]{4}(?![0-9-]))")
# A carrier's tracking number: after its label, or 12 digits in groups of four (1234-5678-9012).
_TRACKING = re.compile(r"(?:伝票番号|お?問い?合わ?せ番号|追跡番号)\s*[:：]?\s*[0-9][0-9 -]{6,}|(?<![0-9])[0-9]{4}[ -][0-9]{4}[ -][0-9]{4}(?![0-9])")
_PREFECTURE = r"(?:北海道|東京都|京都府|大阪府|[一-龥]{2,3}県)"
# A street address: a prefecture or a city/ward/town/village, then a block number
# (渋谷区神南1-2-3, 大阪市北区梅田3丁目, 札幌市中央区北1条西2丁目).
_ADDRESS = re.compile(
    rf"(?:{_PREFECTURE}|[一-龥ぁ-んァ-ヶ]{{1,8}}[市区町村郡])[一-龥ぁ-んァ-ヶ]{{0,12}}?"
    r"[0-9]{1,4}(?:丁目|番地?|号|条|-[0-9]{1,4})"
)


def weight(text: str) -> int:
    """The length X counts for `text` (see the module's note)."""
    total, last = 0, 0
    for match in _URL.finditer(text):
        total += _weigh(text[last:match.start()]) + URL_WEIGHT
        last = match.end()
    return total + _weigh(text[last:])


def _weigh(text: str) -> int:
    return sum(1 if any(low <= ord(ch) <= high for low, high in _LIGHT) else 2 for ch in unicodedata.normalize("NFC", text))


def full_width_length(text: str) -> float:
    """The length in full-width characters (half a one for each character X weighs 1)."""
    return weight(text) / 2


def too_long(text: str) -> str:
    """A warning when a public reply is longer than X allows a standard account, else ""."""
    if weight(text) <= MAX_WEIGHT:
        return ""
    return _("公開リプライが全角140文字（半角280文字）を超えています（全角換算で%(length)s文字）。"
             "Xでは投稿できないことがあります。短くするか、DMで送ってください。") % {
        "length": f"{full_width_length(text):g}"}


def personal_data(text: str) -> list[str]:
    """The kinds of personal data the text names (Japanese, for the agent), empty when none."""
    folded = unicodedata.normalize("NFKC", text)
    found = []
    phones = [m.group(0) for m in _PHONE.finditer(folded) if 10 <= len(re.sub(r"[^0-9]", "", m.group(0))) <= 12]
    if phones:
        found.append(_("電話番号"))
    if EMAIL.search(folded):
        found.append(_("メールアドレス"))
    digits_of_phones = {re.sub(r"[^0-9]", "", p) for p in phones}
    without_urls = _URL.sub(" ", folded)
    orders = [n for n in order_numbers(without_urls) if re.sub(r"[^0-9]", "", n) not in digits_of_phones]
    if orders or _TRACKING.search(without_urls):
        found.append(_("注文番号・伝票番号"))
    if _POSTAL.search(without_urls) or _ADDRESS.search(without_urls):
        found.append(_("住所・郵便番号"))
    return found


def refusal(text: str) -> str:
    """Why a public reply must not be posted (Japanese), or "" when it may."""
    kinds = personal_data(text)
    if not kinds:
        return ""
    return _("公開リプライに個人情報（%(kinds)s）が含まれているため、送信を止めました。"
             "公開の投稿は誰でも読めます。個人情報を伝えるときは「DMで送る」を選んでください。"
             "公開リプライでは「詳しくはDMでお伺いします」のようにDMへご案内ください。") % {"kinds": "、".join(kinds)}
