"""The month's message quota of each LINE account, as LINE reports it, kept for the admins'
page (/settings/line/): fetched by the hourly job and when an admin asks."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils import timezone

from madoguchi.line import client
from madoguchi.line.models import LineAccount, LineQuota

log = logging.getLogger(__name__)


def refresh(account: LineAccount | None) -> LineQuota:
    """Ask LINE for the account's quota and keep the answer (or why there is none)."""
    row = LineQuota.objects.filter(account=account).first() or LineQuota(account=account)
    try:
        found = client.get_quota(account.pk if account else None)
    except client.LineApiError as error:
        row.error = f"LINEから月間メッセージ数を取得できませんでした（{error}）。"[:500]
        log.warning("line: quota of %s not fetched: %s", account or "the first account", error)
    else:
        row.limited, row.limit, row.used, row.error = found.limited, found.limit, found.used, ""
        row.fetched_at = timezone.now()
    row.save()
    return row


def refresh_all() -> int:
    """Every configured account's quota; returns how many were asked."""
    accounts: list[LineAccount | None] = [None] if settings.LINE_CHANNEL_ACCESS_TOKEN else []
    accounts += list(LineAccount.objects.filter(active=True).exclude(access_token_encrypted=""))
    for account in accounts:
        refresh(account)
    return len(accounts)
