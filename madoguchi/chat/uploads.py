"""Checking a visitor's file by what it is (its first bytes), not by what it says it is."""

from __future__ import annotations

from typing import Any

from django.conf import settings

# Leading bytes → the type we store and serve it as. Anything else is refused.
SIGNATURES: list[tuple[bytes, str]] = [
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
]
ALLOWED_LABEL = "JPEG・PNG・GIF・WebP の画像、PDF、テキスト"


class UploadRefused(ValueError):
    """The message says why, in Japanese, for the visitor."""


def sniff(head: bytes) -> str | None:
    for magic, content_type in SIGNATURES:
        if head.startswith(magic):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text/plain" if b"\x00" not in head and b"<" not in head[:1] else None


def check(upload: Any, max_bytes: int | None = None) -> str:
    """The content type to store `upload` as, or UploadRefused."""
    max_bytes = max_bytes or settings.MADOGUCHI_CHAT_MAX_UPLOAD_BYTES
    if upload is None:
        raise UploadRefused("ファイルが選ばれていません。")
    if upload.size > max_bytes:
        raise UploadRefused(f"ファイルが大きすぎます（{max_bytes // (1024 * 1024)}MBまで）。")
    if upload.size == 0:
        raise UploadRefused("空のファイルは送れません。")
    head = upload.read(512)
    upload.seek(0)
    content_type = sniff(head)
    if content_type is None:
        raise UploadRefused(f"この種類のファイルは送れません。送れるのは {ALLOWED_LABEL} です。")
    return content_type


def safe_name(name: str) -> str:
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip() or "file"
    return name[:200]
