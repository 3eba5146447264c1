"""Writes the test corpus: corpus/*.eml and corpus/expectations.json.

Every mail is composed byte by byte here, so each one shows exactly one thing real Japanese
mail does (CP50220 characters in ISO-2022-JP, encoded words split mid-character, RFC 2231
names, Outlook quoting, …). Run: .venv/bin/python madoguchi/mail/tests/make_corpus.py
"""

from __future__ import annotations

import base64
import json
import quopri
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from madoguchi.mail.charsets import encode_iso2022jp  # noqa: E402

HERE = Path(__file__).resolve().parent / "corpus"
FROM = "山田 太郎"
ADDR = "taro.yamada@example.jp"
CASES: list[tuple[str, bytes, dict]] = []


def b64(data: bytes) -> bytes:
    return base64.b64encode(data)


def ew(text: str, charset: str = "UTF-8", mode: str = "B") -> bytes:
    codec = "cp932" if charset.lower() == "shift_jis" else charset
    data = encode_iso2022jp(text) if charset.upper() == "ISO-2022-JP" else text.encode(codec)
    if mode == "B":
        return b"=?" + charset.encode() + b"?B?" + b64(data) + b"?="
    return b"=?" + charset.encode() + b"?Q?" + quopri.encodestring(data, header=True).replace(b"=\n", b"") + b"?="


def mail(subject: bytes, body: bytes, *, frm: bytes | None = None, ctype: bytes = b"text/plain; charset=UTF-8",
         cte: bytes = b"8bit", extra: bytes = b"", mid: str | None = None, eol: bytes = b"\r\n") -> bytes:
    frm = frm if frm is not None else ew(FROM) + b" <" + ADDR.encode() + b">"
    headers = [
        b"From: " + frm,
        b"To: support@shop.example.jp",
        b"Subject: " + subject,
        b"Date: Mon, 23 Nov 2026 10:00:00 +0900",
        b"Message-ID: <" + (mid or f"corpus-{len(CASES) + 1}@example.jp").encode() + b">",
        b"MIME-Version: 1.0",
    ]
    if ctype:
        headers.append(b"Content-Type: " + ctype)
    if cte:
        headers.append(b"Content-Transfer-Encoding: " + cte)
    text = b"\n".join(headers) + b"\n" + (extra.rstrip(b"\n") + b"\n" if extra else b"") + b"\n" + body
    return text.replace(b"\r\n", b"\n").replace(b"\n", eol)


def add(name: str, raw: bytes, subject: str, text: str, *, sender: str = ADDR, attachments: list[str] | None = None,
        hidden: str = "", **more: object) -> None:
    expect = {"subject": subject, "sender": sender, "text": text, "attachments": attachments or []}
    if hidden:
        expect["hidden"] = hidden  # must be folded away (quote/signature), not in the visible text
    expect.update(more)
    CASES.append((f"{len(CASES) + 1:03d}-{name}.eml", raw, expect))


def multipart(ctype: str, parts: list[bytes], boundary: str = "==BOUNDARY==") -> tuple[bytes, bytes]:
    b = boundary.encode()
    body = b"This is a multi-part message in MIME format.\n"
    for part in parts:
        body += b"--" + b + b"\n" + part.rstrip(b"\n") + b"\n"
    body += b"--" + b + b"--\n"
    return f'{ctype}; boundary="{boundary}"'.encode(), body


def part(ctype: bytes, payload: bytes, cte: bytes = b"base64", extra: bytes = b"") -> bytes:
    if cte == b"base64":
        encoded = b"\n".join(b64(payload)[i:i + 76] for i in range(0, len(b64(payload)), 76))
    elif cte == b"quoted-printable":
        encoded = quopri.encodestring(payload)
    else:
        encoded = payload
    head = b"Content-Type: " + ctype + b"\nContent-Transfer-Encoding: " + cte + b"\n" + extra
    return head.rstrip(b"\n") + b"\n\n" + encoded + b"\n"


def jis(text: str) -> bytes:
    return encode_iso2022jp(text)


# ---- Charsets of the body -------------------------------------------------------------------
def charsets() -> None:
    body = "お世話になっております。\n注文した商品がまだ届きません。\n"
    add("iso2022jp-plain", mail(ew("商品が届きません", "ISO-2022-JP"), jis(body), ctype=b"text/plain; charset=ISO-2022-JP", cte=b"7bit"),
        "商品が届きません", "注文した商品がまだ届きません")
    special = "①②③の手順で、㈱窓口商事のⅣ型を注文しました。価格は1,000～2,000円。髙橋様より。"
    add("iso2022jp-cp50220-ext", mail(ew("①②の件 ㈱ Ⅳ ～", "ISO-2022-JP"), jis(special), ctype=b"text/plain; charset=ISO-2022-JP", cte=b"7bit"),
        "①②の件 ㈱ Ⅳ ～", special)
    add("iso2022jp-ms-label", mail(ew("型番Ⅳについて", "ISO-2022-JP"), jis(special), ctype=b"text/plain; charset=ISO-2022-JP-MS", cte=b"7bit"),
        "型番Ⅳについて", "㈱窓口商事のⅣ型")
    add("cp50220-label", mail(ew("㈱からの問い合わせ", "ISO-2022-JP"), jis(special), ctype=b"text/plain; charset=CP50220", cte=b"7bit"),
        "㈱からの問い合わせ", "①②③の手順で")
    kana = "ｶﾀｶﾅの商品名ｾｯﾄ"
    kana_bytes = b"\x1b(I" + "ｶﾀｶﾅ".encode("cp932").translate(bytes((b - 0x80) % 256 for b in range(256))) + b"\x1b(B" + jis("の商品名")
    add("iso2022jp-halfwidth-kana-esc-I", mail(ew("半角カナ", "ISO-2022-JP"), kana_bytes, ctype=b"text/plain; charset=ISO-2022-JP", cte=b"7bit"),
        "半角カナ", "ｶﾀｶﾅの商品名")
    so_si = b"\x0e" + "ｾｯﾄ".encode("cp932").translate(bytes((b - 0x80) % 256 for b in range(256))) + b"\x0f" + b" SET"
    add("iso2022jp-so-si-kana", mail(b"SO SI kana", so_si, ctype=b"text/plain; charset=ISO-2022-JP", cte=b"7bit"),
        "SO SI kana", "ｾｯﾄ SET")
    del kana
    sj = "返品の件でご連絡しました。①番の箱が潰れていました。"
    add("shift-jis", mail(ew("返品について", "Shift_JIS"), sj.encode("cp932"), ctype=b"text/plain; charset=Shift_JIS"),
        "返品について", sj)
    add("cp932-windows-31j", mail(ew("返品について", "Shift_JIS"), sj.encode("cp932"), ctype=b"text/plain; charset=Windows-31J"),
        "返品について", "①番の箱")
    add("shift-jis-base64", mail(ew("返品", "UTF-8"), b64(sj.encode("cp932")), ctype=b"text/plain; charset=shift_jis", cte=b"base64"),
        "返品", sj)
    eu = "領収書を発行していただけますか。宛名は株式会社テストでお願いします。"
    add("euc-jp", mail(ew("領収書", "EUC-JP"), eu.encode("euc_jp"), ctype=b"text/plain; charset=EUC-JP"), "領収書", eu)
    add("euc-jp-circled", mail(ew("領収書", "EUC-JP"), "数量①②".encode("euc_jis_2004"), ctype=b"text/plain; charset=EUC-JP"), "領収書", "数量①②")
    u8 = "ギフト包装をお願いしたのですが、されていませんでした🎁"
    add("utf-8-8bit", mail(ew("ギフト包装"), u8.encode(), ctype=b"text/plain; charset=UTF-8"), "ギフト包装", u8)
    add("utf-8-base64", mail(ew("ギフト包装"), b64(u8.encode()), ctype=b"text/plain; charset=utf-8", cte=b"base64"), "ギフト包装", u8)
    add("utf-8-qp", mail(ew("ギフト包装", mode="Q"), quopri.encodestring(u8.encode()), ctype=b"text/plain; charset=utf-8", cte=b"quoted-printable"),
        "ギフト包装", u8)
    add("utf-8-bom", mail(ew("BOM付き"), b"\xef\xbb\xbf" + u8.encode(), ctype=b"text/plain; charset=utf-8"), "BOM付き", u8)
    add("mislabelled-utf8-is-sjis", mail(ew("文字化け"), sj.encode("cp932"), ctype=b"text/plain; charset=UTF-8"), "文字化け", sj)
    add("mislabelled-sjis-is-utf8", mail(ew("文字化け"), u8.encode(), ctype=b"text/plain; charset=Shift_JIS"), "文字化け", "ギフト包装")
    add("mislabelled-latin1-is-sjis", mail(ew("ラベル違い"), sj.encode("cp932"), ctype=b"text/plain; charset=iso-8859-1"), "ラベル違い", sj)
    add("mislabelled-ascii-is-eucjp", mail(ew("ラベル違い"), eu.encode("euc_jp"), ctype=b"text/plain; charset=us-ascii"), "ラベル違い", eu)
    add("missing-charset-sjis", mail(ew("文字コードなし"), sj.encode("cp932"), ctype=b"text/plain"), "文字コードなし", sj)
    add("no-content-type-utf8", mail(ew("ヘッダーなし"), u8.encode(), ctype=b"", cte=b""), "ヘッダーなし", u8)
    add("unknown-charset-label", mail(ew("不明"), u8.encode(), ctype=b"text/plain; charset=x-unknown-jp"), "不明", u8)
    add("iso2022jp-labelled-but-sjis", mail(ew("ラベル違い"), sj.encode("cp932"), ctype=b"text/plain; charset=ISO-2022-JP"), "ラベル違い", sj)
    long_line = ("とても長い一行のメールです。" * 80).encode("cp932")
    add("sjis-very-long-line", mail(ew("長い行"), long_line, ctype=b"text/plain; charset=Shift_JIS"), "長い行", "とても長い一行のメールです。とても")
    add("lf-only-line-endings", mail(ew("LF改行"), "一行目\n二行目\n".encode(), eol=b"\n"), "LF改行", "一行目\n二行目")
    add("utf-8-wave-dash", mail(ew("〜と～"), "10時〜12時、または14時～16時".encode()), "〜と～", "10時〜12時、または14時～16時")


# ---- Headers ------------------------------------------------------------------------------------
def headers() -> None:
    body = "本文です。".encode()
    add("subject-q-encoding", mail(ew("Q形式の件名", mode="Q"), body), "Q形式の件名", "本文です。")
    data = "分割された件名①".encode()
    split = b"=?UTF-8?B?" + b64(data[:4]) + b"?=\r\n =?UTF-8?B?" + b64(data[4:]) + b"?="
    add("subject-utf8-split-mid-char", mail(split, body), "分割された件名①", "本文です。")
    j = jis("ISO分割の件名です")
    split_j = b"=?ISO-2022-JP?B?" + b64(j[:9]) + b"?=\r\n =?ISO-2022-JP?B?" + b64(j[9:]) + b"?="
    add("subject-iso2022jp-split", mail(split_j, body), "ISO分割の件名です", "本文です。")
    add("subject-raw-8bit-sjis", mail("生のShift_JIS件名".encode("cp932"), body), "生のShift_JIS件名", "本文です。")
    add("subject-raw-8bit-utf8", mail("生のUTF-8件名".encode(), body), "生のUTF-8件名", "本文です。")
    add("subject-mixed-ascii-and-encoded", mail(b"[Order 123] " + ew("配送状況") + b" (ASAP)", body), "[Order 123] 配送状況 (ASAP)", "本文です。")
    add("subject-lowercase-charset", mail(ew("小文字", "utf-8"), body), "小文字", "本文です。")
    add("subject-iso2022jp-cp50220", mail(ew("①の件について㈱", "ISO-2022-JP"), body), "①の件について㈱", "本文です。")
    add("subject-encoded-word-no-padding", mail(b"=?UTF-8?B?" + b64("パディング".encode()).rstrip(b"=") + b"?=", body), "パディング", "本文です。")
    add("subject-unknown-charset-word", mail(b"=?x-unknown?B?" + b64("謎の文字コード".encode()) + b"?=", body), "謎の文字コード", "本文です。")
    add("subject-rfc2047-sjis", mail(ew("件名シフトJIS①", "Shift_JIS"), body), "件名シフトJIS①", "本文です。")
    add("subject-with-fullwidth-re-prefix", mail(ew("Ｒｅ：返信：お問い合わせ"), body), "Ｒｅ：返信：お問い合わせ", "本文です。", clean_subject="お問い合わせ")
    add("subject-case-token", mail(ew("Re: 商品の件 [#1234]"), body), "Re: 商品の件 [#1234]", "本文です。", case_number=1234)
    add("from-quoted-encoded-word", mail(ew("ヘッダー"), body, frm=b'"' + ew("鈴木 一郎", "ISO-2022-JP") + b'" <Ichiro@Example.JP>'),
        "ヘッダー", "本文です。", sender="ichiro@example.jp", sender_name="鈴木 一郎")
    add("from-raw-sjis-name", mail(ew("ヘッダー"), body, frm="佐藤花子".encode("cp932") + b" <hanako@example.jp>"),
        "ヘッダー", "本文です。", sender="hanako@example.jp", sender_name="佐藤花子")
    add("from-bare-address", mail(ew("ヘッダー"), body, frm=b"plain@example.jp"), "ヘッダー", "本文です。", sender="plain@example.jp")
    add("from-split-encoded-name", mail(ew("ヘッダー"), body, frm=b"=?UTF-8?B?" + b64("渡辺".encode()[:4]) + b"?= =?UTF-8?B?" + b64("渡辺".encode()[4:]) + b"?= <w@example.jp>"),
        "ヘッダー", "本文です。", sender="w@example.jp", sender_name="渡辺")
    add("no-subject", mail(b"", body), "", "本文です。")
    folded = b"=?UTF-8?B?" + b64("とても長い件名".encode()) + b"?=\r\n\t=?UTF-8?B?" + b64("の続きです".encode()) + b"?="
    add("subject-folded-tab", mail(folded, body), "とても長い件名の続きです", "本文です。")


# ---- Structure -----------------------------------------------------------------------------------
def structure() -> None:
    text = "テキスト版の本文です。".encode()
    html = "<html><body><p>HTML版の<b>本文</b>です。</p><script>alert(1)</script><img src='https://tracker.example/x.png'></body></html>".encode()
    ctype, body = multipart("multipart/alternative", [part(b"text/plain; charset=UTF-8", text), part(b"text/html; charset=UTF-8", html)])
    add("alternative-prefers-text", mail(ew("代替"), body, ctype=ctype, cte=b""), "代替", "テキスト版の本文です。", hidden="HTML版")
    ctype, body = multipart("multipart/alternative", [part(b"text/html; charset=UTF-8", html)])
    add("html-only-alternative", mail(ew("HTMLのみ"), body, ctype=ctype, cte=b""), "HTMLのみ", "HTML版の本文です。", no_script=True)
    add("html-only-single", mail(ew("HTMLのみ"), html, ctype=b"text/html; charset=UTF-8"), "HTMLのみ", "HTML版の本文です。", no_script=True)
    sjis_html = "<div>Shift_JISの<br>HTMLメール①</div>".encode("cp932")
    add("html-shift-jis-qp", mail(ew("HTML"), quopri.encodestring(sjis_html), ctype=b"text/html; charset=Shift_JIS", cte=b"quoted-printable"),
        "HTML", "HTMLメール①")
    png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")
    related_type, related = multipart("multipart/related", [
        part(b"text/html; charset=UTF-8", '<p>写真を添付します<img src="cid:photo1"></p>'.encode()),
        part(b"image/png", png, extra=b"Content-ID: <photo1>\nContent-Disposition: inline\n"),
    ], boundary="==REL==")
    ctype, body = multipart("multipart/alternative", [
        part(b"text/plain; charset=UTF-8", "写真を添付します".encode()),
        b"Content-Type: " + related_type + b"\n\n" + related,
    ])
    add("alternative-with-related-inline-image", mail(ew("写真"), body, ctype=ctype, cte=b""), "写真", "写真を添付します", attachments=["attachment-1.png"])
    ctype, body = multipart("multipart/mixed", [
        part(b"text/plain; charset=UTF-8", "破損した箱の写真です。".encode()),
        part(b"image/jpeg", b"\xff\xd8\xff\xe0fakejpeg", extra=b"Content-Disposition: inline; filename=\"IMG_0001.jpg\"\nContent-ID: <img1@x>\n"),
    ])
    add("inline-image-with-name", mail(ew("写真"), body, ctype=ctype, cte=b""), "写真", "破損した箱の写真です。", attachments=["IMG_0001.jpg"])
    ctype, body = multipart("multipart/mixed", [
        part(b"text/plain; charset=UTF-8", "TNEF付きです。".encode()),
        part(b"application/ms-tnef; name=\"winmail.dat\"", b"\x78\x9f\x3e\x22tnefdata", extra=b"Content-Disposition: attachment; filename=\"winmail.dat\"\n"),
    ])
    add("tnef-winmail-dat", mail(ew("Outlookから"), body, ctype=ctype, cte=b""), "Outlookから", "TNEF付きです。", attachments=["winmail.dat"])
    inner = mail(ew("元のお問い合わせ"), "最初に送った内容です。".encode(), frm=b"first@example.jp", mid="inner@example.jp")
    ctype, body = multipart("multipart/mixed", [
        part(b"text/plain; charset=UTF-8", "以下のメールを転送します。".encode()),
        b"Content-Type: message/rfc822\nContent-Disposition: attachment\n\n" + inner.replace(b"\r\n", b"\n"),
    ])
    add("nested-rfc822", mail(ew("転送: 元のお問い合わせ"), body, ctype=ctype, cte=b""), "転送: 元のお問い合わせ",
        "以下のメールを転送します。", attachments=["元のお問い合わせ.eml"], contains="最初に送った内容です。")
    inner2 = mail(ew("二重"), "一番内側".encode(), frm=b"deep@example.jp")
    mid_ctype, mid_body = multipart("multipart/mixed", [
        part(b"text/plain; charset=UTF-8", "真ん中".encode()),
        b"Content-Type: message/rfc822\n\n" + inner2.replace(b"\r\n", b"\n"),
    ], boundary="==MID==")
    middle = mail(ew("中間"), mid_body, ctype=mid_ctype, cte=b"", frm=b"mid@example.jp")
    ctype, body = multipart("multipart/mixed", [
        part(b"text/plain; charset=UTF-8", "外側".encode()),
        b"Content-Type: message/rfc822\n\n" + middle.replace(b"\r\n", b"\n"),
    ])
    add("nested-rfc822-twice", mail(ew("入れ子"), body, ctype=ctype, cte=b""), "入れ子", "外側", attachments=["二重.eml", "中間.eml"], contains="一番内側")
    ctype, body = multipart("multipart/mixed", [
        part(b"text/plain; charset=ISO-2022-JP", jis("見積書を添付します。"), cte=b"7bit"),
        part(b"application/pdf", b"%PDF-1.4 fake", extra=b"Content-Disposition: attachment; filename*=UTF-8''%E8%A6%8B%E7%A9%8D%E6%9B%B8.pdf\n"),
    ])
    add("rfc2231-utf8-filename", mail(ew("見積書", "ISO-2022-JP"), body, ctype=ctype, cte=b""), "見積書", "見積書を添付します。", attachments=["見積書.pdf"])
    long_name = "令和八年度_ご注文明細書_山田太郎様.pdf".encode()
    pieces = [long_name[i:i + 15] for i in range(0, len(long_name), 15)]
    params = "".join(f";\n filename*{i}*={'UTF-8' + chr(39) * 2 if i == 0 else ''}{''.join(f'%{b:02X}' for b in piece)}" for i, piece in enumerate(pieces))
    ctype, body = multipart("multipart/mixed", [
        part(b"text/plain; charset=UTF-8", "明細書です。".encode()),
        part(b"application/pdf", b"%PDF-1.4", extra=b"Content-Disposition: attachment" + params.encode() + b"\n"),
    ])
    add("rfc2231-continuations", mail(ew("明細"), body, ctype=ctype, cte=b""), "明細", "明細書です。", attachments=["令和八年度_ご注文明細書_山田太郎様.pdf"])
    sj_name = "請求書①.xlsx".encode("cp932")
    ctype, body = multipart("multipart/mixed", [
        part(b"text/plain; charset=UTF-8", "請求書です。".encode()),
        part(b"application/vnd.ms-excel", b"PK\x03\x04", extra=b"Content-Disposition: attachment; filename*=shift_jis''" + "".join(f"%{b:02X}" for b in sj_name).encode() + b"\n"),
    ])
    add("rfc2231-sjis-filename", mail(ew("請求書"), body, ctype=ctype, cte=b""), "請求書", "請求書です。", attachments=["請求書①.xlsx"])
    ctype, body = multipart("multipart/mixed", [
        part(b"text/plain; charset=ISO-2022-JP", jis("納品書です。"), cte=b"7bit"),
        part(b"application/pdf; name=\"" + ew("納品書㈱.pdf", "ISO-2022-JP") + b"\"", b"%PDF",
             extra=b"Content-Disposition: attachment; filename=\"" + ew("納品書㈱.pdf", "ISO-2022-JP") + b"\"\n"),
    ])
    add("rfc2047-encoded-filename", mail(ew("納品書", "ISO-2022-JP"), body, ctype=ctype, cte=b""), "納品書", "納品書です。", attachments=["納品書㈱.pdf"])
    ctype, body = multipart("multipart/mixed", [
        part(b"text/plain; charset=Shift_JIS", "写真です。".encode("cp932"), cte=b"8bit"),
        part(b"image/jpeg", b"\xff\xd8", extra=b"Content-Disposition: attachment; filename=\"" + "商品写真.jpg".encode("cp932") + b"\"\n"),
    ])
    add("raw-8bit-sjis-filename", mail(ew("写真"), body, ctype=ctype, cte=b""), "写真", "写真です。", attachments=["商品写真.jpg"])
    ctype, body = multipart("multipart/mixed", [
        part(b"text/plain; charset=UTF-8", "名前だけ".encode()),
        part(b"text/csv; name=\"" + ew("注文一覧.csv") + b"\"", "番号,商品\n1,急須\n".encode()),
    ])
    add("filename-only-in-content-type-name", mail(ew("CSV"), body, ctype=ctype, cte=b""), "CSV", "名前だけ", attachments=["注文一覧.csv"])
    ctype, body = multipart("multipart/mixed", [
        part(b"text/plain; charset=UTF-8", "パス付きの名前".encode()),
        part(b"application/octet-stream", b"x", extra=b"Content-Disposition: attachment; filename=\"C:\\\\Users\\\\taro\\\\..\\\\secret.txt\"\n"),
    ])
    add("filename-with-path-is-stripped", mail(ew("パス"), body, ctype=ctype, cte=b""), "パス", "パス付きの名前", attachments=["secret.txt"])
    ctype, body = multipart("multipart/mixed", [
        part(b"text/plain; charset=UTF-8", "壊れたbase64".encode()),
        b"Content-Type: application/pdf\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=\"broken.pdf\"\n\nJVBERi0x!!!not base64@@@\n",
    ])
    add("broken-base64-attachment", mail(ew("壊れた添付"), body, ctype=ctype, cte=b""), "壊れた添付", "壊れたbase64", attachments=["broken.pdf"])
    add("broken-base64-body", mail(ew("壊れた本文"), b64("途中まで読める本文".encode())[:-3] + b"%%%", ctype=b"text/plain; charset=UTF-8", cte=b"base64"),
        "壊れた本文", "途中まで読める")
    add("missing-final-boundary", mail(ew("境界なし"), b"--==B==\nContent-Type: text/plain; charset=UTF-8\n\n" + "終わりの境界がありません".encode() + b"\n",
                                       ctype=b'multipart/mixed; boundary="==B=="', cte=b""), "境界なし", "終わりの境界がありません")
    add("multipart-without-boundary", mail(ew("境界指定なし"), "境界の指定がない".encode(), ctype=b"multipart/mixed", cte=b""), "境界指定なし", "境界の指定がない")


# ---- Quoted history and signatures ---------------------------------------------------------------
def quoting() -> None:
    new = "ご返信ありがとうございます。交換でお願いします。"
    styles = {
        "quote-gt": f"{new}\n\n> 交換か返金かお選びください。\n> よろしくお願いいたします。\n",
        "quote-fullwidth-gt": f"{new}\n\n＞交換か返金かお選びください。\n＞よろしくお願いいたします。\n",
        "quote-original-message": f"{new}\n\n-----Original Message-----\nFrom: サポート\nSent: Monday\n交換か返金かお選びください。\n",
        "quote-japanese-original": f"{new}\n\n----- 元のメッセージ -----\n交換か返金かお選びください。\n",
        "quote-japanese-date-attribution": f"{new}\n\n2026年11月23日(月) 10:00 窓口サポート <support@shop.example.jp>:\n> 交換か返金かお選びください。\n",
        "quote-japanese-date-no-gt": f"{new}\n\n2026年11月23日 10:00 窓口サポート <support@shop.example.jp>:\n\n交換か返金かお選びください。\n",
        "quote-gmail-english": f"{new}\n\nOn Mon, Nov 23, 2026 at 10:00 AM Support <support@shop.example.jp> wrote:\n> 交換か返金かお選びください。\n",
        "quote-outlook-japanese-header": f"{new}\n\n差出人: 窓口サポート <support@shop.example.jp>\n送信日時: 2026年11月23日 10:00\n宛先: {ADDR}\n件名: RE: 返品\n\n交換か返金かお選びください。\n",
        "quote-address-wrote": f"{new}\n\n窓口サポート <support@shop.example.jp> さんは書きました:\n> 交換か返金かお選びください。\n",
    }
    for name, body in styles.items():
        add(name, mail(ew("Re: 返品について"), body.encode()), "Re: 返品について", new, hidden="交換か返金かお選びください")
    add("quote-iso2022jp", mail(ew("Re: 返品について", "ISO-2022-JP"), jis(styles["quote-japanese-date-attribution"]), ctype=b"text/plain; charset=ISO-2022-JP", cte=b"7bit"),
        "Re: 返品について", new, hidden="交換か返金かお選びください")
    sig_dash = f"{new}\n\n――――――――――――――――\n山田 太郎\n〒100-0001 東京都千代田区1-1\nTEL 03-0000-0000\n――――――――――――――――\n"
    add("signature-dash-rule", mail(ew("署名"), sig_dash.encode()), "署名", new, hidden="〒100-0001")
    sig_rfc = f"{new}\n\n-- \n山田 太郎\ntaro.yamada@example.jp\n"
    add("signature-rfc3676", mail(ew("署名"), sig_rfc.encode()), "署名", new, hidden="taro.yamada@example.jp")
    sig_stars = f"{new}\n\n＊＊＊＊＊＊＊＊＊＊＊＊\n株式会社サンプル 購買部\n山田 太郎\n＊＊＊＊＊＊＊＊＊＊＊＊\n"
    add("signature-fullwidth-stars", mail(ew("署名"), sig_stars.encode("cp932"), ctype=b"text/plain; charset=Shift_JIS"), "署名", new, hidden="購買部")
    sig_bar = f"{new}\n\n━━━━━━━━━━━━━━━━\n山田 太郎\n━━━━━━━━━━━━━━━━\n\n> 以前のメール\n"
    add("signature-then-quote", mail(ew("署名"), sig_bar.encode()), "署名", new, hidden="以前のメール")
    inline = "> 交換か返金か\n交換でお願いします。\n> 配送日の希望は\n来週の土曜日午前でお願いします。\n"
    add("inline-reply-kept-visible", mail(ew("Re: 質問"), inline.encode()), "Re: 質問", "来週の土曜日午前でお願いします。")
    html_quote = "<div>了解しました。</div><blockquote>以前のメッセージの本文</blockquote>".encode()
    add("html-blockquote-folded", mail(ew("HTML引用"), html_quote, ctype=b"text/html; charset=UTF-8"), "HTML引用", "了解しました。", hidden="以前のメッセージの本文")


# ---- Loop protection and bounces -----------------------------------------------------------------
def signals() -> None:
    body = "ただいま不在にしております。".encode()
    add("auto-submitted", mail(ew("自動応答: 不在"), body, extra=b"Auto-Submitted: auto-replied"), "自動応答: 不在", "ただいま不在", auto_reason="auto-submitted")
    add("precedence-bulk", mail(ew("お知らせ"), body, extra=b"Precedence: bulk"), "お知らせ", "ただいま不在", auto_reason="precedence")
    add("list-id", mail(ew("メルマガ"), body, extra=b"List-Id: <news.example.jp>"), "メルマガ", "ただいま不在", auto_reason="mailing-list")
    report_type, report = multipart("multipart/report", [
        part(b"text/plain; charset=us-ascii", b"Delivery to the following recipient failed: nobody@example.jp", cte=b"7bit"),
        part(b"message/delivery-status", b"Reporting-MTA: dns; mx.example.jp\n\nFinal-Recipient: rfc822; nobody@example.jp\nAction: failed\nStatus: 5.1.1\n", cte=b"7bit"),
        b"Content-Type: text/rfc822-headers\n\nMessage-ID: <reply-42@madoguchi.example>\nSubject: test\n",
    ])
    report_type = report_type.replace(b"multipart/report;", b"multipart/report; report-type=delivery-status;")
    add("bounce-dsn", mail(b"Undelivered Mail Returned to Sender", report, ctype=report_type, cte=b"",
                           frm=b"MAILER-DAEMON@mx.example.jp (Mail Delivery System)"),
        "Undelivered Mail Returned to Sender", "Delivery to the following recipient failed", sender="mailer-daemon@mx.example.jp",
        auto_reason="mailer-daemon", is_bounce=True, bounced="<reply-42@madoguchi.example>")


def detection() -> None:
    french = "Bonjour, la crème brûlée était très bonne. Merci beaucoup pour votre café, à bientôt ! Où est ma commande numéro 123 ?"
    add("detected-latin1-no-charset", mail(b"Commande", french.encode("latin-1"), ctype=b"text/plain"), "Commande", french)
    chinese = "我们的订单还没有到达，请尽快处理。"
    add("declared-gb2312", mail(ew("订单", "GB2312"), chinese.encode("gb2312"), ctype=b"text/plain; charset=GB2312"), "订单", chinese)


def main() -> None:
    charsets()
    headers()
    structure()
    quoting()
    signals()
    detection()
    HERE.mkdir(exist_ok=True)
    for old in HERE.glob("*.eml"):
        old.unlink()
    expectations = {}
    for name, raw, expect in CASES:
        (HERE / name).write_bytes(raw)
        expectations[name] = expect
    (HERE / "expectations.json").write_text(json.dumps(expectations, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(CASES)} messages written to {HERE}")


if __name__ == "__main__":
    main()
