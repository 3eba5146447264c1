"""Turning bytes of Japanese mail into text, and text into ISO-2022-JP, without ever raising.

Python's own iso2022_jp codecs know only JIS X 0208, so the NEC and IBM characters that
Windows and Japanese mailers put into ISO-2022-JP (①②, ㈱, Ⅳ, ～: the CP50220 superset)
fail to decode. Every JIS X 0208 pair maps to exactly one Shift_JIS pair, and cp932 knows
all of those characters, so ISO-2022-JP is decoded here by switching on the escape
sequences and handing each two-byte run to cp932.
"""

from __future__ import annotations

import codecs
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
        if byte == ESC:
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


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """(text, charset actually used). Declared charset first, then the Japanese chain, then
    detection, finally UTF-8 with replacement characters. Never raises."""
    if not data:
        return "", "empty"
    label = _normalise_label(declared)
    codec = _codec_for(label) if label else None
    eight_bit = any(b >= 0x80 for b in data)
    if codec and not (label in WESTERN_NAMES and eight_bit):
        text = _try(data, codec)
        if text is not None:
            return text, codec
    if b"\x1b$" in data or b"\x1b(" in data:
        for name in ("iso2022jp", "iso2022_jp_2"):
            text = _try(data, name)
            if text is not None:
                return text, name
    text = _try(data, "utf-8-sig")
    if text is not None:
        return text, "utf-8-sig"
    candidates = [(name, _try(data, name)) for name in ("cp932", "euc")]
    scored = [(_japanese_ratio(text), name, text) for name, text in candidates if text is not None]
    if scored:
        ratio, name, text = max(scored, key=lambda item: item[0])
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
