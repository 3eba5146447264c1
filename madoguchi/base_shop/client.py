"""BASE's public API v1 (thebase.in): OAuth 2 authorisation-code flow, then orders and items.

Authlib's OAuth2Client (on httpx2) holds the token and refreshes it when it has expired (the new
token is stored encrypted at once); requests go through shop.platform_http, which retries them
while BASE is down. The base URL is MADOGUCHI_BASE_API_BASE (a test points it at a local server)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx2
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from madoguchi.base_shop.models import BaseAuthorisation
from madoguchi.shop import platform_http
from madoguchi.shop.platform_http import PlatformError

LABEL = "BASE"
PAGE_SIZE = 100
SCOPE = "read_users read_items read_orders"
TIMEOUT = httpx2.Timeout(30.0, connect=10.0)


def configured() -> bool:
    return bool(settings.MADOGUCHI_BASE_CLIENT_ID and settings.MADOGUCHI_BASE_CLIENT_SECRET)


def authorised() -> bool:
    return configured() and BaseAuthorisation.objects.exists()


def redirect_uri() -> str:
    return f"{settings.SITE_URL}/settings/orders/base/callback/"


def _oauth(token: dict[str, Any] | None = None) -> OAuth2Client:
    return OAuth2Client(
        client_id=settings.MADOGUCHI_BASE_CLIENT_ID, client_secret=settings.MADOGUCHI_BASE_CLIENT_SECRET,
        token_endpoint_auth_method="client_secret_post", scope=SCOPE, redirect_uri=redirect_uri(),
        token=token, token_endpoint=f"{settings.MADOGUCHI_BASE_API_BASE}/1/oauth/token", update_token=_save_token,
        timeout=TIMEOUT, leeway=60,
    )


def _save_token(token: dict[str, Any], refresh_token: str | None = None, access_token: str | None = None) -> None:
    with transaction.atomic():
        row = BaseAuthorisation.objects.select_for_update().first() or BaseAuthorisation()
        row.set_token(token)
        row.save()


def authorisation_url(state: str) -> str:
    with _oauth() as oauth:
        url, _state = oauth.create_authorization_url(f"{settings.MADOGUCHI_BASE_API_BASE}/1/oauth/authorize", state=state)
    return str(url)


def do_authorise(code: str, user: Any = None) -> None:
    """Exchange the code BASE sent back for tokens and keep them (encrypted)."""
    try:
        with _oauth() as oauth:
            token = oauth.fetch_token(f"{settings.MADOGUCHI_BASE_API_BASE}/1/oauth/token", code=code,
                                      grant_type="authorization_code")
    except (OAuthError, httpx2.HTTPError, ValueError) as error:
        raise PlatformError(_("BASE でトークンを受け取れませんでした（%(error)s）。もう一度接続してください。")
                            % {"error": type(error).__name__}) from error
    with transaction.atomic():
        BaseAuthorisation.objects.all().delete()
        row = BaseAuthorisation(authorised_by=user)
        row.set_token(dict(token))
        row.save()


class BaseClient:
    def __init__(self) -> None:
        row = BaseAuthorisation.objects.first()
        if not configured() or row is None:
            raise PlatformError(_("BASE の接続が済んでいません（MADOGUCHI_BASE_CLIENT_ID・MADOGUCHI_BASE_CLIENT_SECRET を設定し、設定画面から接続してください）。"))
        self.http = _oauth(row.token())

    def __enter__(self) -> BaseClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            response = platform_http.request(self.http, "GET", f"{settings.MADOGUCHI_BASE_API_BASE}{path}", platform=LABEL,
                                             params=params)
        except OAuthError as error:  # the refresh of an expired token was refused
            raise PlatformError(_("BASE の認可が切れています。設定画面からもう一度接続してください。")) from error
        if response.status_code in (400, 401, 403):
            raise PlatformError(_("BASE がアクセスを拒否しました（HTTP %(status)s）。設定画面からもう一度接続してください。")
                                % {"status": response.status_code})
        if response.status_code == 404:
            return {}
        if response.status_code != 200:
            raise PlatformError(_("BASE が HTTP %(status)s を返しました。") % {"status": response.status_code})
        try:
            payload = response.json()
        except ValueError as error:
            raise PlatformError(_("BASE の応答を JSON として読めません。")) from error
        if not isinstance(payload, dict):
            raise PlatformError(_("BASE の応答の形が違います。"))
        return payload

    def _pages(self, path: str, key: str, params: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        offset = 0
        while True:
            rows = [row for row in self.get(path, {**params, "limit": PAGE_SIZE, "offset": offset}).get(key) or []
                    if isinstance(row, dict)]
            yield rows
            if len(rows) < PAGE_SIZE:
                return
            offset += len(rows)

    def orders(self, start_ordered: str = "") -> Iterator[list[dict[str, Any]]]:
        """Pages of GET /1/orders (each order's key, dates and state; not its items)."""
        return self._pages("/1/orders", "orders", {"start_ordered": start_ordered} if start_ordered else {})

    def order(self, unique_key: str) -> dict[str, Any] | None:
        return self.get(f"/1/orders/detail/{quote(unique_key, safe='')}").get("order") or None

    def items(self) -> Iterator[list[dict[str, Any]]]:
        return self._pages("/1/items", "items", {})
