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
