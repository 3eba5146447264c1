"""Login throttling: increasing delays per account and per address, a lock after repeated
failures, and a log line for every failure (issue 21, finding 2: 200 wrong passwords at 4/s,
then the right one, logged in).

Every failed login is logged (the username tried and the address; never the password) and kept
as a `LoginFailure` row, so every web process sees the same counts (scale mode). An account's
count starts anew at its last successful login; an address's is the last WINDOW.

- **Delay**: from the DELAY_AFTER-th failure of an account in the window, each further try is
  refused, without looking at the password, until 2, 4, 8 … seconds (at most MAX_DELAY) after
  the last failure. An address gets the same from ADDRESS_DELAY_AFTER failures (higher: a shop's
  office shares one address). A refused try is not a failure: it cannot lengthen the delay.
- **Lock**: the LOCK_AFTER-th failure locks the account for LOCK_MINUTES, or until an admin
  unlocks it on /settings/; the user and the admins are notified. A locked account is refused
  even with the right password.

Why our own and not django-axes: axes locks, but has no increasing delay and one limit for
accounts and addresses alike; what is here is small and reads the shop's settings.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from madoguchi import addresses
from madoguchi.accounts.models import LoginFailure, Role, User

log = logging.getLogger("madoguchi.accounts.login")

WINDOW = dt.timedelta(hours=1)
MAX_DELAY_SECONDS = 300


def client_address(request: HttpRequest | None) -> str:
    """The address a login came from (madoguchi.addresses: behind a proxy, its last hop)."""
    if request is None:
        return ""
    return addresses.client_address(request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_X_FORWARDED_FOR", ""))


def _wait_seconds(failures: list[dt.datetime], after: int, now: dt.datetime) -> int:
    """Seconds still to wait before the next try, given the failures (newest first)."""
    if len(failures) < after:
        return 0
    delay = min(2 ** (len(failures) - after + 1), MAX_DELAY_SECONDS)
    return max(0, math.ceil(delay - (now - failures[0]).total_seconds()))


def _account_failures(username: str, user: User | None, now: dt.datetime) -> list[dt.datetime]:
    since = now - WINDOW
    if user is not None and user.last_login is not None:
        since = max(since, user.last_login)
    return list(LoginFailure.objects.filter(username=username, at__gt=since).order_by("-at").values_list("at", flat=True)[:64])


def _address_failures(address: str, now: dt.datetime) -> list[dt.datetime]:
    if not address:
        return []
    return list(LoginFailure.objects.filter(address=address, at__gt=now - WINDOW).order_by("-at").values_list("at", flat=True)[:256])


def refusal(username: str, address: str, now: dt.datetime | None = None) -> str | None:
    """Why this try is refused before the password is looked at, or None to go on."""
    now = now or timezone.now()
    user = User.objects.filter(username=username).first()
    if user is not None and user.login_locked_until is not None and user.login_locked_until > now:
        log.warning("login refused: account %r is locked (address %s)", username, address)
        return _("このアカウントはログインの失敗が続いたためロックされています。管理者に解除を依頼してください。")
    wait = max(_wait_seconds(_account_failures(username, user, now), settings.MADOGUCHI_LOGIN_DELAY_AFTER, now),
               _wait_seconds(_address_failures(address, now), settings.MADOGUCHI_LOGIN_ADDRESS_DELAY_AFTER, now))
    if wait:
        log.info("login refused: %s s to wait for %r from %s", wait, username, address)
        return _("ログインの失敗が続いています。%(seconds)s 秒待ってからもう一度お試しください。") % {"seconds": wait}
    return None


def do_record_failure(username: str, address: str, now: dt.datetime | None = None) -> LoginFailure:
    """A wrong password (or an unknown user): logged, kept, and the account locked at the limit."""
    now = now or timezone.now()
    failure = LoginFailure.objects.create(username=username[:150], address=address, at=now)
    log.warning("login failed for %r from %s", username, address)
    user = User.objects.filter(username=username).first()
    if user is not None and len(_account_failures(username, user, now)) >= settings.MADOGUCHI_LOGIN_LOCK_AFTER:
        _lock(user, address, now)
    return failure


def _lock(user: User, address: str, now: dt.datetime) -> None:
    from madoguchi.notifications.services import do_notify

    until = now + dt.timedelta(minutes=settings.MADOGUCHI_LOGIN_LOCK_MINUTES)
    with transaction.atomic():
        locked = User.objects.filter(pk=user.pk).filter(Q(login_locked_until__isnull=True) | Q(login_locked_until__lte=now))
        if not locked.update(login_locked_until=until):
            return  # locked already: one notice per lock
        log.warning("account %r locked until %s after repeated failures (last from %s)", user.username, until, address)
        admins = list(User.objects.filter(Q(role=Role.ADMIN) | Q(is_superuser=True), is_active=True).exclude(pk=user.pk))
        message = gettext_noop("ログインの失敗が続いたため、%(user)s さんのアカウントをロックしました（最後の試行元: %(address)s）。"
                               "心当たりがなければ管理者に連絡してください。")
        do_notify([user, *admins], kind="login_locked", message=message, params={"user": str(user), "address": address or "-"})


def do_unlock(user: User, actor: Any) -> None:
    """An admin lifts the lock; the failures so far no longer count (audited)."""
    from madoguchi.accounts import audit
    from madoguchi.accounts.models import SettingsAction, SettingsSource

    with transaction.atomic():
        before = user.login_locked_until
        User.objects.filter(pk=user.pk).update(login_locked_until=None)
        LoginFailure.objects.filter(username=user.username).delete()
        audit.record(actor, source=SettingsSource.SETTINGS, action=SettingsAction.CHANGE, target=_("ログインのロック"),
                     object_id=user.pk, object_repr=str(user),
                     changes=[{"field": "login_locked_until", "label": _("ロック"), "old": str(before or ""), "new": _("解除")}])
    log.warning("account %r unlocked by %s", user.username, actor)


def locked_users(now: dt.datetime | None = None) -> list[User]:
    return list(User.objects.filter(login_locked_until__gt=now or timezone.now()).order_by("username"))
