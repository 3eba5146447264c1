"""Writes mails/hard/*.eml: Japanese mail as real mailers send it, in the forms that lost text.

Each mail is composed byte by byte the way its mailer writes it (Apple Mail and iPhone Mail's
format=flowed with delsp=yes, Outlook and old webmail with a wrong charset label, old Japanese
mailers' raw Shift_JIS headers, SoftBank phones' web-code emoji, a MIME bomb nested hundreds
deep). test_hard_japanese_mail.py states what each must read as.
Run: .venv/bin/python madoguchi/mail/tests/make_hard_mails.py
"""

from __future__ import annotations

import base64
import quopri
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from madoguchi.mail.charsets import encode_iso2022jp  # noqa: E402

HERE = Path(__file__).resolve().parent / "mails" / "hard"
TO = b"support@shop.example.jp"
DATE = b"Tue, 24 Nov 2026 21:14:05 +0900"


def ew(text: str, charset: str = "UTF-8", data: bytes | None = None) -> bytes:
    """An RFC 2047 B-encoded word; `data` gives the bytes (to write a label that lies)."""
    if data is None:
        data = encode_iso2022jp(text) if charset.upper() == "ISO-2022-JP" else text.encode(charset)
    return b"=?" + charset.encode() + b"?B?" + base64.b64encode(data) + b"?="


def headers(*lines: bytes) -> bytes:
    return b"\r\n".join(lines) + b"\r\n\r\n"


def crlf(body: bytes) -> bytes:
    return body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def flowed_lines(paragraph: str, width: int, delsp: bool) -> list[str]:
    """One paragraph cut into lines of `width` characters the way Apple's mailers cut Japanese:
    anywhere, each line but the last ending with a space (delsp=yes: an added one; delsp=no:
    the cut is made after a space of the text, which then ends the line)."""
    lines: list[str] = []
    rest = paragraph
    while len(rest) > width:
        if delsp:
            lines.append(rest[:width] + " ")
            rest = rest[width:]
        else:
            cut = rest.rfind(" ", 0, width) + 1 or width
            lines.append(rest[:cut])
            rest = rest[cut:]
    lines.append(rest)
    return lines


def jis_flowed(lines: list[str], prefix: str = "") -> bytes:
    """ISO-2022-JP as Apple Mail writes a flowed line: the JIS run closed with ESC ( B, then
    the soft break's space, then CRLF."""
    out = b""
    for line in lines:
        soft = line.endswith(" ")
        text = line[:-1] if soft else line
        out += prefix.encode() + encode_iso2022jp(text) + (b" " if soft else b"") + b"\r\n"
    return out


MAILS: dict[str, bytes] = {}

# --- 1. format=flowed -------------------------------------------------------------------------

APPLE_PARAGRAPH = (
    "先日注文した信楽焼の急須（注文番号 A-20261120-0042）が本日届きましたが、箱を開けたところ"
    "注ぎ口が欠けていました。写真を添付しますので、交換の手続きをお願いできますでしょうか。"
)
MAILS["apple-mail-flowed-delsp-iso2022jp.eml"] = headers(
    b"From: " + ew("佐藤 花子", "ISO-2022-JP") + b" <hanako.sato@example.ne.jp>",
    b"Content-Type: text/plain;\r\n\tcharset=iso-2022-jp;\r\n\tdelsp=yes;\r\n\tformat=flowed",
    b"Content-Transfer-Encoding: 7bit",
    b"Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3774.600.62\\))",
    b"Subject: " + ew("急須の注ぎ口が欠けていました", "ISO-2022-JP"),
    b"Message-Id: <A1B2C3D4-5E6F-4A1B-9C2D-3E4F5A6B7C8D@example.ne.jp>",
    b"Date: " + DATE,
    b"To: " + TO,
    b"X-Mailer: Apple Mail (2.3774.600.62)",
) + jis_flowed(flowed_lines(APPLE_PARAGRAPH, 30, True)) + b"\r\n" + jis_flowed(["よろしくお願いいたします。"]) + (
    b"\r\n" + jis_flowed(["佐藤"]) + b"\r\n"
    + jis_flowed(["2026/11/20 10:02、窓口商店 <support@shop.example.jp>のメール:"])
    + b"\r\n"
    + jis_flowed(flowed_lines("ご注文ありがとうございます。商品は11月22日に発送いたしました。到着まで今しばらくお待ちください。", 25, True), "> ")
    + jis_flowed(flowed_lines("以前のお問い合わせ：色違いの在庫はありますか。", 15, True), ">> ")
)

IPHONE_PARAGRAPH = (
    "お世話になっております。昨日届いたマグカップ２個のうち１個の取っ手にひびが入っていました。"
    "返品か交換をお願いしたいのですが、どちらが早いでしょうか？😢"
)
IPHONE_BODY = "\n".join([
    *flowed_lines(IPHONE_PARAGRAPH, 22, True),
    "",
    " 注文番号：1120-7781（先頭に空白のある行）",  # written with a leading space: stuffed below
    "",
    "-- ",
    "田中 一郎",
])
STUFFED = "\n".join(" " + line if line.startswith((" ", ">", "From ")) else line for line in IPHONE_BODY.split("\n"))
MAILS["iphone-flowed-delsp-qp-utf8.eml"] = headers(
    b"Content-Type: text/plain;\r\n\tcharset=utf-8;\r\n\tdelsp=yes;\r\n\tformat=flowed",
    b"Content-Transfer-Encoding: quoted-printable",
    b"From: " + ew("田中 一郎") + b" <ichiro.tanaka@i.softbank.jp>",
    b"Mime-Version: 1.0 (1.0)",
    b"Date: " + DATE,
    b"Subject: " + ew("マグカップの取っ手にひびがありました"),
    b"Message-Id: <7F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0@i.softbank.jp>",
    b"To: " + TO,
    b"X-Mailer: iPhone Mail (22B91)",
) + crlf(quopri.encodestring(STUFFED.encode("utf-8")))

MAILS["apple-mail-flowed-delsp-no-utf8.eml"] = headers(
    b"From: Ken Watanabe <ken.watanabe@example.com>",
    b"Content-Type: text/plain; charset=utf-8; format=flowed",
    b"Content-Transfer-Encoding: 8bit",
    b"Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3774.600.62\\))",
    b"Subject: " + ew("Order A-1188 の配送について"),
    b"Message-Id: <flowed-delsp-no@example.com>",
    b"Date: " + DATE,
    b"To: " + TO,
    b"X-Mailer: Apple Mail (2.3774.600.62)",
) + crlf("\n".join(flowed_lines(
    "Hello, my order A-1188 has not arrived yet although the tracking page says it was delivered "
    "on November 21. 配達済みになっていますが 届いていません。", 40, False)).encode("utf-8") + b"\n")

# --- 2. charset labels that lie ------------------------------------------------------------------

EUC_TEXT = "届いた湯呑みの色が注文したものと違いました。藍色を注文したのですが、緑色が届いています。"
MAILS["euc-jp-labelled-shift-jis.eml"] = headers(
    b"From: " + ew("中村 修", "ISO-2022-JP") + b" <osamu@example.co.jp>",
    b"To: " + TO,
    b"Subject: " + ew("色違いの商品が届きました", "Shift_JIS", "色違いの商品が届きました".encode("euc_jp")),
    b"Date: " + DATE,
    b"Message-ID: <euc-as-sjis@example.co.jp>",
    b"MIME-Version: 1.0",
    b"Content-Type: text/plain; charset=Shift_JIS",
    b"Content-Transfer-Encoding: 8bit",
    b"X-Mailer: Microsoft Outlook Express 6.00.2900.5512",
) + crlf(EUC_TEXT.encode("euc_jp") + b"\n")

JIS_TEXT = "明日の午前中に再配達をお願いします。不在票の番号は４４１２です。"
MAILS["iso-2022-jp-labelled-us-ascii.eml"] = headers(
    b"From: " + ew("小林 誠", "ISO-2022-JP") + b" <makoto@ezweb.ne.jp>",
    b"To: " + TO,
    b"Subject: " + encode_iso2022jp("再配達のお願い"),  # raw JIS, no encoded word (old phones)
    b"Date: " + DATE,
    b"Message-ID: <jis-as-ascii@ezweb.ne.jp>",
    b"MIME-Version: 1.0",
    b"Content-Type: text/plain; charset=us-ascii",
    b"Content-Transfer-Encoding: 7bit",
) + encode_iso2022jp(JIS_TEXT) + b"\r\n"

UTF8_TEXT = "ポイントが付与されていません。①会員番号 55-0192、②注文日 11月18日です。"
MAILS["utf-8-labelled-iso-2022-jp.eml"] = headers(
    b"From: " + ew("加藤 恵") + b" <megumi.kato@example.jp>",
    b"To: " + TO,
    b"Subject: " + ew("ポイント未付与", "ISO-2022-JP", "ポイント未付与".encode()),
    b"Date: " + DATE,
    b"Message-ID: <utf8-as-jis@example.jp>",
    b"MIME-Version: 1.0",
    b"Content-Type: text/plain; charset=ISO-2022-JP",
    b"Content-Transfer-Encoding: base64",
) + base64.encodebytes(UTF8_TEXT.encode("utf-8")).replace(b"\n", b"\r\n")

SJIS_TEXT = "ソフトの表示が崩れます。能書きどおりに動きません。予備の部品を送ってください。"
MAILS["shift-jis-labelled-utf-8.eml"] = headers(
    b"From: " + ew("吉田 直樹") + b" <naoki@example.jp>",
    b"To: " + TO,
    b"Subject: " + ew("表示が崩れます", "UTF-8", "表示が崩れます".encode("cp932")),
    b"Date: " + DATE,
    b"Message-ID: <sjis-as-utf8@example.jp>",
    b"MIME-Version: 1.0",
    b"Content-Type: text/plain; charset=UTF-8",
    b"Content-Transfer-Encoding: quoted-printable",
) + crlf(quopri.encodestring(SJIS_TEXT.encode("cp932") + b"\n"))

UTF8_AS_SJIS = "ありがとうございます。ソファーカバーの件、了解しました。"
MAILS["utf-8-labelled-shift-jis.eml"] = headers(
    b"From: " + ew("松本 由美") + b" <yumi@example.jp>",
    b"To: " + TO,
    b"Subject: " + ew("ソファーカバーの件"),
    b"Date: " + DATE,
    b"Message-ID: <utf8-as-sjis@example.jp>",
    b"MIME-Version: 1.0",
    b"Content-Type: text/plain; charset=shift_jis",
    b"Content-Transfer-Encoding: 8bit",
) + crlf(UTF8_AS_SJIS.encode("utf-8") + b"\n")

# --- 3. raw Shift_JIS display names with 0x5C second bytes -------------------------------------

MAILS["shift-jis-raw-display-name-backslash.eml"] = headers(
    b'From: "' + "能登 表".encode("cp932") + b'" <noto.hyo@example.jp>',
    b'To: "' + "窓口 ソフト表".encode("cp932") + b'" <support@shop.example.jp>',
    b"Subject: " + ew("領収書の宛名について", "Shift_JIS"),
    b"Date: " + DATE,
    b"Message-ID: <sjis-backslash@example.jp>",
    b"MIME-Version: 1.0",
    b"Content-Type: text/plain; charset=Shift_JIS",
    b"Content-Transfer-Encoding: 8bit",
    b"X-Mailer: Becky! ver. 2.24.02",
) + crlf("領収書の宛名を「能登表具店」にしていただけますか。\n".encode("cp932"))

# --- 4. SoftBank web-code emoji -------------------------------------------------------------------

SOFTBANK_SJIS = "届きました".encode("cp932") + b"\x1b$Gj\x0f" + "ありがとう".encode("cp932") + b"\x1b$GBB\x0f\n"
MAILS["softbank-webcode-emoji-shift-jis.eml"] = headers(
    b"From: " + ew("森 さくら", "Shift_JIS") + b" <sakura-mori@softbank.ne.jp>",
    b"To: " + TO,
    b"Subject: " + ew("", "Shift_JIS", "お礼".encode("cp932") + b"\x1b$Gv\x0f"),
    b"Date: " + DATE,
    b"Message-ID: <softbank-sjis@softbank.ne.jp>",
    b"MIME-Version: 1.0",
    b"Content-Type: text/plain; charset=Shift_JIS",
    b"Content-Transfer-Encoding: 8bit",
) + crlf(SOFTBANK_SJIS)

SOFTBANK_JIS = (
    encode_iso2022jp("雨の日") + b"\x1b$Gk\x0f" + encode_iso2022jp("でも届けてくださって") + b"\x1b$E~\x0f"
    + encode_iso2022jp("感謝です") + b"\r\n"
)
MAILS["softbank-webcode-emoji-iso-2022-jp.eml"] = headers(
    b"From: " + ew("森 さくら", "ISO-2022-JP") + b" <sakura-mori@softbank.ne.jp>",
    b"To: " + TO,
    b"Subject: " + ew("配達", "ISO-2022-JP", encode_iso2022jp("配達") + b"\x1b$G;\x0f"),
    b"Date: " + DATE,
    b"Message-ID: <softbank-jis@softbank.ne.jp>",
    b"MIME-Version: 1.0",
    b"Content-Type: text/plain; charset=ISO-2022-JP",
    b"Content-Transfer-Encoding: 7bit",
) + SOFTBANK_JIS


# --- 5. MIME nested hundreds deep -----------------------------------------------------------------

def nested(depth: int) -> bytes:
    """A multipart/mixed whose first part is the customer's text and whose second part opens
    `depth` more levels of multipart/mixed, with a last text at the bottom."""
    out = headers(
        b"From: " + ew("山口 健") + b" <ken.yamaguchi@example.jp>",
        b"To: " + TO,
        b"Subject: " + ew("請求書の再発行をお願いします"),
        b"Date: " + DATE,
        b"Message-ID: <nested-" + str(depth).encode() + b"@example.jp>",
        b"MIME-Version: 1.0",
        b'Content-Type: multipart/mixed; boundary="top"',
    )
    out += (b"--top\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            + "11月分の請求書を紛失しました。再発行をお願いします。\r\n".encode() + b"--top\r\n")
    for level in range(depth):
        out += b'Content-Type: multipart/mixed; boundary="n%d"\r\n\r\n--n%d\r\n' % (level, level)
    out += b"Content-Type: text/plain; charset=UTF-8\r\n\r\n" + "一番奥の本文\r\n".encode()
    for level in reversed(range(depth)):
        out += b"--n%d--\r\n" % level
    return out + b"--top--\r\n"


MAILS["mime-nested-300-deep.eml"] = nested(300)
MAILS["mime-nested-1500-deep.eml"] = nested(1500)


def main() -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    for name, raw in MAILS.items():
        (HERE / name).write_bytes(raw)
    print(f"{len(MAILS)} mails written to {HERE}")


if __name__ == "__main__":
    main()
