"""Turning bytes of Japanese mail into text, and text into ISO-2022-JP, without ever raising.

Python's own iso2022_jp codecs know only JIS X 0208, so the NEC and IBM characters that
Windows and Japanese mailers put into ISO-2022-JP (①②, ㈱, Ⅳ, ～: the CP50220 superset)
fail to decode. Every JIS X 0208 pair maps to exactly one Shift_JIS pair, and cp932 knows
all of those characters, so ISO-2022-JP is decoded here by switching on the escape
sequences and handing each two-byte run to cp932.
"""

from __future__ import annotations

import codecs
import itertools
import re
import unicodedata

import charset_normalizer

ESC = 0x1B
ISO2022JP_NAMES = {
    "iso-2022-jp", "iso2022jp", "iso_2022_jp", "csiso2022jp", "iso-2022-jp-ms", "cp50220",
    "cp50221", "cp50222", "iso-2022-jp-1", "iso-2022-jp-3", "iso-2022-jp-2004", "jis", "x-jis",
}
SJIS_NAMES = {
    "shift_jis", "shift-jis", "sjis", "x-sjis", "s-jis", "ms_kanji", "csshiftjis", "windows-31j",
    "cp932", "ms932", "x-ms-cp932", "shift_jisx0213", "shift_jis_2004",
}
EUC_NAMES = {"euc-jp", "eucjp", "euc_jp", "x-euc-jp", "cseucpkdfmtjapanese", "eucjp-ms", "euc-jis-2004"}
# Labels mailers put on Japanese text by mistake (a Western default left in the composer).
WESTERN_NAMES = {"us-ascii", "ascii", "iso-8859-1", "latin1", "latin-1", "windows-1252", "cp1252", "iso-8859-15"}


def _normalise_label(label: str | None) -> str:
    return (label or "").strip().strip('"').strip("'").lower()


def _jis_pair_to_sjis(j1: int, j2: int) -> bytes:
    s1 = (j1 + 1) // 2 + 0x70
    if s1 >= 0xA0:
        s1 += 0x40
    if j1 % 2:
        s2 = j2 + 0x1F
        if s2 >= 0x7F:
            s2 += 1
    else:
        s2 = j2 + 0x7E
    return bytes((s1, s2))


def _sjis_pair_to_jis(s1: int, s2: int) -> bytes:
    if s1 >= 0xE0:
        s1 -= 0x40
    j1 = (s1 - 0x70) * 2 - 1
    if s2 >= 0x9F:
        j1 += 1
        j2 = s2 - 0x7E
    else:
        j2 = s2 - 0x1F if s2 < 0x7F else s2 - 0x20
    return bytes((j1, j2))


_ESCAPES = {
    b"\x1b(B": "ascii", b"\x1b(J": "ascii", b"\x1b(H": "ascii", b"\x1b(I": "kana",
    b"\x1b$@": "jis", b"\x1b$B": "jis", b"\x1b&@\x1b$B": "jis", b"\x1b$(Q": "jis",
    b"\x1b$(O": "jis", b"\x1b$(B": "jis", b"\x1b$(D": "other", b"\x1b$A": "other",
    b"\x1b$(C": "other", b"\x1b.A": "other", b"\x1b.F": "other",
}


def decode_iso2022jp(data: bytes, strict: bool = True) -> str:
    """ISO-2022-JP with the CP50220/50221 extensions. Raises UnicodeDecodeError in strict mode
    on 8-bit bytes or unknown escapes (the caller then tries other charsets)."""
    out: list[str] = []
    mode = "ascii"
    i, n = 0, len(data)
    while i < n:
        byte = data[i]
        if byte == ESC and not (i + 2 < n and data[i + 1] == 0x24 and data[i + 2] in _SOFTBANK_PAGES):
            for seq, new_mode in _ESCAPES.items():
                if data.startswith(seq, i):
                    if new_mode == "other" and strict:
                        raise UnicodeDecodeError("iso2022_jp", data, i, i + len(seq), "ISO-2022-JP-2 set")
                    if new_mode == "other":
                        out.append("\ufffd")
                        new_mode = "ascii"
                    mode = new_mode
                    i += len(seq)
                    break
            else:
                if strict:
                    raise UnicodeDecodeError("iso2022_jp", data, i, i + 1, "unknown escape")
                out.append("\ufffd")
                i += 1
            continue
        if byte == ESC and i + 2 < n and data[i + 1] == 0x24 and data[i + 2] in _SOFTBANK_PAGES:
            # SoftBank web code: ESC $ G, then one byte an emoji, until SI; then the text goes
            # on in the set it was in.
            page, i = data[i + 2], i + 3
            while i < n and 0x21 <= data[i] <= 0x7E:
                out.append(softbank_emoji(page, data[i]))
                i += 1
            if i < n and data[i] == 0x0F:
                i += 1
            continue
        if byte == 0x0E:  # SO: half-width katakana until SI (CP50221)
            mode, i = "kana", i + 1
            continue
        if byte == 0x0F:
            mode, i = "ascii", i + 1
            continue
        if byte >= 0x80:
            if strict:
                raise UnicodeDecodeError("iso2022_jp", data, i, i + 1, "8-bit byte")
            out.append("\ufffd")
            i += 1
            continue
        if mode == "jis" and byte == 0x20:  # a space inside a JIS run (some mailers write one)
            out.append(" ")
            i += 1
            continue
        if mode == "jis" and byte not in (0x0A, 0x0D):
            if i + 1 < n and 0x21 <= byte <= 0x7E and 0x21 <= data[i + 1] <= 0x7E:
                out.append(_jis_pair_to_sjis(byte, data[i + 1]).decode("cp932", errors="replace"))
                i += 2
                continue
            if strict:
                raise UnicodeDecodeError("iso2022_jp", data, i, i + 1, "broken pair")
            out.append("\ufffd")
            i += 1
            continue
        if mode == "jis":  # a line break inside a JIS run: mailers reset to ASCII there
            mode = "ascii"
        if mode == "kana" and 0x21 <= byte <= 0x5F:
            out.append(bytes((byte + 0x80,)).decode("cp932"))
        else:
            out.append(chr(byte))
        i += 1
    return "".join(out)


def _full_width_kana(text: str) -> str:
    return re.sub(r"[\uff61-\uff9f]+", lambda m: unicodedata.normalize("NFKC", m.group()), text)


def encode_iso2022jp(text: str) -> bytes:
    """Text as CP50220-style ISO-2022-JP: half-width katakana become full-width, characters
    cp932 lacks become '?' (mailers do the same; the UTF-8 default avoids this loss)."""
    text = _full_width_kana(text)
    out = bytearray()
    in_jis = False
    for char in text:
        try:
            sjis = char.encode("cp932")
        except UnicodeEncodeError:
            sjis = b"?"
        if len(sjis) == 2:
            if not in_jis:
                out += b"\x1b$B"
                in_jis = True
            out += _sjis_pair_to_jis(sjis[0], sjis[1])
        else:
            if in_jis:
                out += b"\x1b(B"
                in_jis = False
            out += sjis if sjis[0] < 0x80 else b"?"
    if in_jis:
        out += b"\x1b(B"
    return bytes(out)


# --- SoftBank emoji --------------------------------------------------------------------------------
# Old SoftBank (J-PHONE, Vodafone) phones write an emoji as a "web code": ESC $ and a page
# letter, one printable byte per emoji, SI. Each page maps onto SoftBank's private-use block
# (G: U+E001…, E: U+E101…, F: U+E201…, O: U+E301…, P: U+E401…, Q: U+E501…, the byte 0x21 being
# the first); below, the standard emoji of those we know. An unknown one becomes 〓 (the geta
# mark Japanese mailers show for a character they cannot show), never a control character.
_SOFTBANK_PAGES = {ord("G"): 0xE000, ord("E"): 0xE100, ord("F"): 0xE200, ord("O"): 0xE300, ord("P"): 0xE400, ord("Q"): 0xE500}
UNKNOWN_EMOJI = "〓"
_SOFTBANK_G = (
    "👦👧💋👨👩👕👟📷☎📱📠💻👊👍☝✊✌✋🎿⛳🎾⚾🏄⚽🐟🐴🚗⛵✈🚃🚅❓❗❤💔"
    "🕐🕑🕒🕓🕔🕕🕖🕗🕘🕙🕚🕛🌸🔱🌹🎄💍💎🏠⛪🏢🚉⛽🗻🎤🎥🎵🔑🎷🎸🎺🍴🍸☕🍰🍺"
    "⛄☁☀☔🌙🌄👼🐱🐯🐻🐶🐭🐳🐧😊😃😞😠💩"
)
_SOFTBANK_P = "😥😏😔😁😉😣😖😪😝😌😨😷😳😒😰😲😭😂😢☺😄😡😚😘👀👃👂👄🙏"
SOFTBANK_EMOJI: dict[int, str] = {
    **{0xE001 + index: char for index, char in enumerate(_SOFTBANK_G)},
    **{0xE401 + index: char for index, char in enumerate(_SOFTBANK_P)},
    0xE105: "😜", 0xE106: "😍", 0xE107: "😱", 0xE108: "😓", 0xE10E: "👑", 0xE10F: "💡", 0xE112: "🎁",
    0xE11D: "🔥", 0xE12F: "💰", 0xE13C: "💤", 0xE13D: "⚡", 0xE20C: "♥", 0xE20D: "♦", 0xE20E: "♠", 0xE20F: "♣",
}


def softbank_emoji(page: int, code: int) -> str:
    """The emoji of one SoftBank web code (page letter and code byte, 0x21 the first)."""
    return SOFTBANK_EMOJI.get(_SOFTBANK_PAGES.get(page, 0) + code - 0x20, UNKNOWN_EMOJI)


_WEB_CODE = re.compile("\x1b\\$([GEFOPQ])([\x21-\x7e]{1,100})\x0f")
# C0 and C1 controls but tab and line breaks: nothing a person wrote, and unsafe to show.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _visible(text: str) -> str:
    """SoftBank web codes (left by a Shift_JIS or mislabelled decode) as emoji, then no control
    characters at all."""
    if "\x1b$" in text:
        text = _WEB_CODE.sub(lambda m: "".join(softbank_emoji(ord(m.group(1)), ord(c)) for c in m.group(2)), text)
    return _CONTROLS.sub("", text)


# --- Plausibility ---------------------------------------------------------------------------------

def _char_weight(char: str) -> float:
    """How likely one non-ASCII character is in Japanese mail text: kana, common (JIS level 1)
    kanji and Japanese punctuation 1; rare kanji and half-width katakana less; half-width
    punctuation (the first bytes of EUC kana read as Shift_JIS: ､･｡｢), other scripts, PUA
    and control characters not at all or below."""
    code = ord(char)
    if 0x3000 <= code <= 0x30FF:
        return 1.0
    if 0x4E00 <= code <= 0x9FFF:
        try:
            euc = char.encode("euc_jp")
        except UnicodeEncodeError:
            return 0.3
        return 1.0 if 0xB0 <= euc[0] <= 0xCF else 0.4
    if 0xFF01 <= code <= 0xFF5E:
        return 0.8
    if 0xFF61 <= code <= 0xFF65:
        return 0.0
    if 0xFF66 <= code <= 0xFF9F:
        return 0.6
    if (0x2010 <= code <= 0x203F or 0x2160 <= code <= 0x217F or 0x2190 <= code <= 0x21FF or 0x2460 <= code <= 0x24FF
            or 0x2500 <= code <= 0x27BF or 0x3200 <= code <= 0x33FF or code >= 0x1F000 or code in (0xA5, 0xA7, 0xB0, 0xB1, 0xD7, 0xF7)):
        return 0.9
    if code == 0xFFFD or code < 0x20 or 0x7F <= code <= 0x9F or 0xE000 <= code <= 0xF8FF:
        return -1.0
    return 0.2


def plausibility(text: str, sample: int = 4000) -> float:
    """Mean weight of the text's non-ASCII and control characters (up to `sample` of them; not
    ESC, SO and SI, which SoftBank's emoji codes leave in Shift_JIS text for _visible to read):
    1.0 for clean Japanese (or plain ASCII), near 0 or below for mojibake."""
    counted = (c for c in text if c > "\x7e" or (c < " " and c not in "\t\r\n\x1b\x0e\x0f"))
    weights = [_char_weight(c) for c in itertools.islice(counted, sample)]
    return sum(weights) / len(weights) if weights else 1.0


def _japanese_ratio(text: str) -> float:
    """Share of non-ASCII characters that are full-width Japanese (kana, kanji, symbols);
    the wrong decoding of Japanese bytes gives half-width katakana, PUA and rare symbols."""
    wide = [c for c in text if ord(c) > 0x7F]
    if not wide:
        return 1.0
    good = sum(
        1 for c in wide
        if "\u3000" <= c <= "\u30ff" or "\u4e00" <= c <= "\u9fff" or "\uff01" <= c <= "\uff5e"
        or "\u2460" <= c <= "\u24ff" or "\u2160" <= c <= "\u217f" or "\u3200" <= c <= "\u33ff"
    )
    return good / len(wide)


def _try(data: bytes, name: str) -> str | None:
    try:
        if name == "iso2022jp":
            return decode_iso2022jp(data)
        if name == "euc":
            try:
                return data.decode("euc_jp")
            except UnicodeDecodeError:
                return data.decode("euc_jis_2004")
        return data.decode(name)
    except (UnicodeDecodeError, LookupError):
        return None


def _codec_for(label: str) -> str | None:
    if label in ISO2022JP_NAMES:
        return "iso2022jp"
    if label in SJIS_NAMES:
        return "cp932"
    if label in EUC_NAMES:
        return "euc"
    if label in ("utf8", "utf-8", "x-utf8", "unicode-1-1-utf-8"):
        return "utf-8-sig"
    try:
        return codecs.lookup(label).name
    except (LookupError, ValueError):
        return None


# ISO-2022-JP's designations (JIS X 0208, JIS X 0201 roman and kana, JIS X 0213) and SoftBank's
# web code: in 7-bit data they mean ISO-2022-JP whatever the label says.
_JIS_ESCAPE = re.compile(rb"\x1b(\$[@B]|\(J|\(I|\$\([OPQ]|\$[GEFOPQ])")
# Labels the text is read by even when it looks wrong: other 7-bit ISO-2022 sets and UTF-7.
_OTHER_7BIT = {"iso2022_kr", "iso2022_jp_2", "iso2022_jp_1", "iso2022_jp_3", "iso2022_jp_ext", "utf_7"}
_JAPANESE_CODECS = {"iso2022jp", "cp932", "euc", "utf-8-sig", "ascii"}
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")
IMPLAUSIBLE = 0.5  # below it, the labelled charset's text is checked against the others


def _decode(data: bytes, label: str, codec: str | None) -> tuple[str, str]:
    """The labelled charset first, unless the bytes say otherwise (ISO-2022-JP escapes in 7-bit
    data, valid UTF-8 under a Japanese or Western label) or its text is implausible; then
    Shift_JIS and EUC-JP compared by plausibility; then detection."""
    eight_bit = not data.isascii()
    if not eight_bit and codec not in _OTHER_7BIT and _JIS_ESCAPE.search(data):
        text = _try(data, "iso2022jp")
        if text is not None:
            return text, "iso2022jp" if codec in (None, "iso2022jp") else "iso2022jp-by-content"
    if eight_bit and (codec is None or codec in _JAPANESE_CODECS or label in WESTERN_NAMES) and _UTF8_MULTIBYTE.search(data):
        text = _try(data, "utf-8-sig")
        if text is not None:  # legacy Japanese text is (almost) never valid UTF-8
            return text, "utf-8-sig" if codec in (None, "utf-8-sig") else "utf-8-by-content"
    if codec and not (label in WESTERN_NAMES and eight_bit):
        text = _try(data, codec)
        if text is not None and (codec not in _JAPANESE_CODECS or plausibility(text) >= IMPLAUSIBLE):
            return text, codec
        labelled = [(plausibility(text), codec, text)] if text is not None else []
        others = [(plausibility(t), name, t) for name in ("cp932", "euc") if name != codec and (t := _try(data, name)) is not None]
        if labelled or others:
            score, name, likeliest = max(labelled + others, key=lambda item: item[0])
            if labelled and score < labelled[0][0] + 0.2:
                return labelled[0][2], codec
            if score >= IMPLAUSIBLE:
                return likeliest, f"{name}-by-content"
    if b"\x1b$" in data or b"\x1b(" in data:
        for name in ("iso2022jp", "iso2022_jp_2"):
            text = _try(data, name)
            if text is not None:
                return text, name
    text = _try(data, "utf-8-sig")
    if text is not None:
        return text, "utf-8-sig"
    candidates = [(name, _try(data, name)) for name in ("cp932", "euc")]
    scored = [(_japanese_ratio(text), plausibility(text), name, text) for name, text in candidates if text is not None]
    if scored:
        ratio, _score, name, text = max(scored, key=lambda item: item[:2])
        if ratio > 0.6:
            return text, name
    if codec and label in WESTERN_NAMES:
        text = _try(data, codec)
        if text is not None:
            return text, codec
    try:
        best = charset_normalizer.from_bytes(data[:200_000]).best()
        if best is not None:
            return str(best), f"detected:{best.encoding}"
    except Exception:  # noqa: BLE001 - detection is a best effort, never fatal
        pass
    if b"\x1b$" in data:
        return decode_iso2022jp(data, strict=False), "iso2022jp-lenient"
    return data.decode("utf-8", errors="replace"), "utf-8-replace"


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """(text, charset actually used). Never raises. The label is trusted while its text is
    plausible Japanese (see `_decode`); "-by-content" in the name says the label was wrong.
    The text has SoftBank emoji as emoji and no control characters."""
    if not data:
        return "", "empty"
    label = _normalise_label(declared)
    codec = _codec_for(label) if label else None
    text, used = _decode(data, label, codec)
    return _visible(text), used


def decode_text(data: bytes, declared: str | None = None) -> str:
    return decode_bytes(data, declared)[0]


# Longest encoded body line we write. RFC 5322 2.1.1 allows at most 998 bytes a line and SMTP
# servers refuse longer ones ("500 Line too long"); a margin below it, as some relays count
# the line ending or a trace prefix in.
MAX_JIS_LINE_BYTES = 900
_SWITCH = 3  # ESC $ B or ESC ( B


def _is_double_byte(char: str) -> bool:
    try:
        return len(char.encode("cp932")) == 2
    except UnicodeEncodeError:
        return False  # encoded as "?"


def fold_for_iso2022jp(text: str, limit: int = MAX_JIS_LINE_BYTES) -> str:
    """The text with a line break inserted wherever a line would encode to more than `limit`
    bytes. ISO-2022-JP must go 7bit (its old readers are why a mailbox chooses it), so a long
    paragraph cannot be left to quoted-printable or base64 the way UTF-8 is; it is folded
    between two characters, as Japanese mailers wrap (Japanese has no spaces to lose, and
    each encoded line returns to ASCII before its line break, which encode_iso2022jp does at
    every newline). Lines that fit are left exactly as written."""
    text = _full_width_kana(text)  # as encode_iso2022jp will, so a split never parts ｶﾞ
    return "\n".join(folded for line in text.split("\n") for folded in _fold_line(line, limit))


def _fold_line(line: str, limit: int) -> list[str]:
    pieces: list[str] = []
    start, size, in_jis = 0, 0, False
    for index, char in enumerate(line):
        wide = _is_double_byte(char)
        cost = (2 if wide else 1) + (_SWITCH if wide != in_jis else 0)
        closing = _SWITCH if wide else 0  # a line ending in JIS returns to ASCII
        if index > start and size + cost + closing > limit:
            pieces.append(line[start:index])
            start, size, in_jis = index, 0, False
            cost = (2 if wide else 1) + (_SWITCH if wide else 0)
        size += cost
        in_jis = wide
    pieces.append(line[start:])
    return pieces
