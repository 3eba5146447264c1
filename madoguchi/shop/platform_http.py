"""Talking to a shop platform's API over HTTP, through its outages.

A platform that answers 5xx or 429, or cannot be reached, is asked again after a wait that
doubles each time (MADOGUCHI_SHOP_SYNC_BACKOFF_SECONDS, up to MADOGUCHI_SHOP_SYNC_ATTEMPTS
tries); a Retry-After header it sends is honoured (capped at MADOGUCHI_SHOP_SYNC_MAX_WAIT_SECONDS).
When every try failed, PlatformUnavailable says so in Japanese: the sync stops there, and its
cursor stays where the data written ends, so the next run fetches the rest."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

import httpx2
from django.conf import settings
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)


class PlatformError(Exception):
    """Why a platform's answer cannot be used; the message is for the admin (Japanese)."""


class PlatformUnavailable(PlatformError):
    """The platform stayed down (5xx, 429, unreachable) through every try."""


def retry_after(response: httpx2.Response) -> float | None:
    """Seconds the platform asked us to wait: Retry-After as seconds or as an HTTP date."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def backoff(attempt: int) -> float:
    return float(settings.MADOGUCHI_SHOP_SYNC_BACKOFF_SECONDS) * 2 ** (attempt - 1)


def request(client: httpx2.Client, method: str, url: str, *, platform: str,
            sleep: Callable[[float], None] = time.sleep, **kwargs: Any) -> httpx2.Response:
    """`client.request(method, url, **kwargs)`, tried again while the platform is down. Any
    other answer (2xx, 4xx) is returned to the caller as it is."""
    attempts = max(1, int(settings.MADOGUCHI_SHOP_SYNC_ATTEMPTS))
    for attempt in range(1, attempts + 1):
        try:
            response = client.request(method, url, **kwargs)
        except httpx2.TransportError as error:
            problem, wait = _("接続できません（%(error)s）") % {"error": type(error).__name__}, backoff(attempt)
        else:
            if response.status_code != 429 and response.status_code < 500:
                return response
            problem = _("HTTP %(status)s が返りました") % {"status": response.status_code}
            asked = retry_after(response) if response.status_code in (429, 503) else None
            wait = backoff(attempt) if asked is None else asked
        if attempt == attempts:
            raise PlatformUnavailable(_("%(platform)s に %(count)s 回試しましたが応答がありません: %(problem)s。次の同期でもう一度試します。")
                                      % {"platform": platform, "count": attempts, "problem": problem})
        wait = min(wait, float(settings.MADOGUCHI_SHOP_SYNC_MAX_WAIT_SECONDS))
        log.warning("%s: %s %s failed (%s), try %s of %s again in %.1f s", platform, method, url.split("?")[0],
                    problem, attempt + 1, attempts, wait)
        sleep(wait)
    raise AssertionError("unreachable")
