"""API tokens: made, found, revoked. A token is `mdg_` and 43 URL-safe characters (256 random
bits); the database keeps its SHA-256 and the first characters to recognise it by."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.accounts.models import User
from madoguchi.api.models import ApiToken, Resource, Scope

PREFIX = "mdg_"
# last_used_at is written at most this often per token: a client polling the API does not
# turn every read into a write.
LAST_USED_EVERY = dt.timedelta(seconds=60)


class TokenError(ValueError):
    """Why a token cannot be made; shown to the user as it is."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def do_create_token(user: User, *, name: str, scope: str, resources: Iterable[str] = ()) -> tuple[ApiToken, str]:
    """The new token's row and the token itself, which is never stored and shown only now."""
    name = name.strip()
    if not name:
        raise TokenError(_("トークンの名前を入力してください（例: 在庫システム連携）。"))
    if scope not in Scope.values:
        raise TokenError(_("権限を選んでください。"))
    chosen = sorted(set(resources))
    if set(chosen) - set(Resource.values):
        raise TokenError(_("対象に使えない値があります。"))
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(user=user, name=name[:100], prefix=token[:10], digest=digest(token), scope=scope,
                                  resources=chosen)
    return row, token


def do_revoke_token(row: ApiToken) -> None:
    if row.revoked_at is None:
        ApiToken.objects.filter(pk=row.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def find(token: str) -> ApiToken | None:
    """The live token of an active user, or None (unknown, revoked, or its user deactivated)."""
    if not token.startswith(PREFIX) or len(token) > 100:
        return None
    row = ApiToken.objects.select_related("user").filter(digest=digest(token), revoked_at__isnull=True).first()
    if row is None or not row.user.is_active:
        return None
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now
    return row


def allows(row: ApiToken, resource: str, write: bool) -> bool:
    if write and row.scope != Scope.WRITE:
        return False
    return not row.resources or resource in row.resources
