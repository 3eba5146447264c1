"""Where a request or socket came from, one rule for every rate limit (logins, forms, chats).

Behind a reverse proxy (MADOGUCHI_BEHIND_PROXY) every connection comes from the proxy, so the
client is the last hop of X-Forwarded-For, which the proxy itself appends; without a proxy that
header is whatever the client wrote and is ignored."""

from __future__ import annotations

from django.conf import settings


def client_address(remote: str, forwarded: str = "") -> str:
    if settings.MADOGUCHI_BEHIND_PROXY and forwarded:
        return forwarded.split(",")[-1].strip()[:45]
    return (remote or "")[:45]
