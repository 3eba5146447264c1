"""Small builders shared by the mail tests (real bytes, no mocks)."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.utils import timezone


def japanese_mail(
    *, subject: str = "商品が届きません", body: str = "11月20日に注文した急須がまだ届きません。", sender: str = "taro@example.jp",
    name: str = "山田 太郎", to: str = "support@shop.example.jp", headers: dict[str, str] | None = None,
    message_id: str | None = None, date: dt.datetime | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"{name} <{sender}>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or timezone.now())  # the sender's clock
    msg["Message-ID"] = message_id or make_msgid(domain="example.jp")
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body)
    return msg.as_bytes()


# --- Mails that froze the desk (issue 15, defect 2); the tests and bench/mail_freeze_bench.py ---

FREEZING_KINDS = ("dated-line", "address-line", "rule-line", "marked-sections-html")


def freezing_mail(kind: str, number: int = 0, size: int | None = None) -> bytes:
    """A stranger's mail whose body is one long line (base64, so every line on the wire is short)
    (1.2 MB decoded) or an 821 KB HTML body of `<![` runs. Before the fix, each held the interpreter for minutes:
    "dated-line" and "address-line" made two quote-header patterns backtrack quadratically,
    "rule-line" the signature-rule pattern, "marked-sections-html" Python 3.11's html.parser
    (CVE-2025-6069; 821 KB took 32 s)."""
    size = size or (821_000 if kind == "marked-sections-html" else 1_200_000)  # the sizes of the report
    opening = f"注文番号 ORD-2026-{number:04d} の商品が届きません。至急ご確認ください。"
    if kind == "marked-sections-html":
        markup = f"<html><body><p>{opening}</p>" + "<![" * ((size - 200) // 3)  # never closed
        return _mail_with_body(number, kind, "text/html", markup)
    filler = {"dated-line": ("2026/11/20 " + opening, "さん"), "address-line": (opening + "<", "@"), "rule-line": (opening + "\n", "-")}
    head, unit = filler[kind]
    chars = size // len(unit.encode())
    return _mail_with_body(number, kind, "text/plain", head + unit * chars + ("x" if kind == "rule-line" else ""))


def _mail_with_body(number: int, kind: str, content_type: str, body: str) -> bytes:
    import base64

    encoded = base64.encodebytes(body.encode()).replace(b"\n", b"\r\n")
    return (
        f"From: stranger-{kind}-{number}@example.net\r\nTo: support@shop.example.jp\r\n"
        f"Subject: =?UTF-8?B?{base64.b64encode(f'至急（{kind} {number}）'.encode()).decode()}?=\r\n"
        f"Message-ID: <freeze-{kind}-{number}@example.net>\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: {content_type}; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    ).encode() + encoded
