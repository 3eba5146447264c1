"""Spam checks of the public forms, with no third party: a honeypot field, a signed stamp of
when the form was shown (too fast or too old is refused), and a per-address rate limit kept in
Django's cache (Redis when REDIS_URL is set, so every process counts together)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core import signing
from django.core.cache import cache

HONEYPOT = "website"  # hidden from people by CSS; bots fill every field
MAX_AGE_SECONDS = 2 * 60 * 60
SALT = "madoguchi.chat.form-stamp"


class Refused(ValueError):
    """Shown to the sender as it is (Japanese)."""


def stamp() -> str:
    return signing.dumps(time.time(), salt=SALT)


def check_stamp(value: str, now: float | None = None) -> None:
    now = now or time.time()
    try:
        shown_at = float(signing.loads(value, salt=SALT, max_age=MAX_AGE_SECONDS))
    except (signing.BadSignature, TypeError, ValueError) as error:
        raise Refused("フォームの有効期限が切れました。ページを読み込み直して、もう一度送信してください。") from error
    if now - shown_at < settings.MADOGUCHI_FORM_MIN_SECONDS:
        raise Refused("送信が早すぎます。内容をご確認のうえ、数秒おいてからもう一度送信してください。")


def is_bot(data: dict[str, str]) -> bool:
    return bool(data.get(HONEYPOT, "").strip())


def take_rate(address: str, bucket: str) -> None:
    """Count one submission from `address`; refuse above the hourly limit."""
    if not within_limit(address, bucket, settings.MADOGUCHI_FORM_PER_IP_PER_HOUR, 3600):
        raise Refused("送信回数が多すぎます。しばらく時間をおいてから、もう一度お試しください。")


def within_limit(address: str, bucket: str, limit: int, seconds: int) -> bool:
    """Count one event of `bucket` from `address`; False once more than `limit` in the window."""
    key = f"madoguchi:form-rate:{bucket}:{address}"
    cache.add(key, 0, timeout=seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=seconds)
        count = 1
    return bool(count <= limit)
