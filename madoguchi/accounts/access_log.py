"""The access log (issue 21, APPI): sign-ins and failed sign-ins (the username tried and the
address, never a password), two-factor changes, changes of a person's role or permissions (who
changed whose, old → new), and exports and erasures of personal data. Rows are `AccessEvent`s,
shown to admins at /settings/access/ and never edited; each is also a log line.

Role changes are caught on the User row itself (`pre_save`/`post_save`), whichever page or command
made them; who made them is the signed-in user of the request (`ActorMiddleware`), else システム.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _

from madoguchi.accounts.models import AccessEvent, AccessKind, Role, User

log = logging.getLogger("madoguchi.access")
PAGE_SIZE = 50
_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar("madoguchi_request", default=None)


def current_actor() -> User | None:
    """The signed-in user of the request being served, if any (read only when an entry is written)."""
    request = _request.get()
    user: Any = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None

# What makes a person's permissions: watched on every save of a User.
WATCHED = ("role", "is_active", "is_staff", "is_superuser", "team_id")


def record(kind: str, *, user: User | None = None, username: str = "", address: str = "", detail: str = "",
           actor: User | None = None) -> AccessEvent:
    """One entry; `user` is whom it is about (their username is kept even if they are deleted),
    `actor` who did it (default: the request's signed-in user, else `user`; for a permission
    change nobody signed in, e.g. a command: none, shown as システム)."""
    if actor is None and kind != AccessKind.PERMISSION:  # a permission change by no one signed in: システム
        actor = current_actor() or user
    name = username or (user.username if user is not None else "")
    event = AccessEvent.objects.create(kind=kind, actor=actor if actor is not None and actor.pk else None,
                                       username=name[:150], address=address[:45], detail=detail[:500])
    log.info("access %s user=%r actor=%r address=%s %s", kind, name, actor.username if actor else "", address, detail)
    return event


class ActorMiddleware:
    """Remembers the signed-in user of the request for entries written deep down (role changes)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


def _shown(name: str, value: Any) -> str:
    if name == "role":
        return str(Role(value).label) if value in Role.values else str(value)
    if name == "team_id":
        from madoguchi.accounts.models import Team

        return str(Team.objects.filter(pk=value).first() or "—") if value else "—"
    return str(_("はい") if value else _("いいえ"))


LABELS = {"role": "役割", "is_active": "有効", "is_staff": "管理サイトに入れる", "is_superuser": "すべての権限", "team_id": "チーム"}


def user_pre_save(sender: Any, instance: User, raw: bool = False, **kwargs: Any) -> None:
    if raw or instance.pk is None:
        instance._access_before = None  # type: ignore[attr-defined]
        return
    instance._access_before = User.objects.filter(pk=instance.pk).values(*WATCHED).first()  # type: ignore[attr-defined]


def user_post_save(sender: Any, instance: User, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if raw:
        return
    before = getattr(instance, "_access_before", None)
    with translation.override(settings.LANGUAGE_CODE):
        if created:
            record(AccessKind.PERMISSION, user=instance, detail=_("アカウントを作成（役割: %(role)s）") % {"role": _shown("role", instance.role)},
                   actor=current_actor())
            return
        if before is None:
            return
        changes = [f"{_(LABELS[name])}: {_shown(name, before[name])} → {_shown(name, getattr(instance, name))}"
                   for name in WATCHED if before[name] != getattr(instance, name)]
        if changes:
            record(AccessKind.PERMISSION, user=instance, detail="、".join(changes), actor=current_actor())


def logged_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    from madoguchi.accounts.throttle import client_address

    how = _("管理サイト") if request is not None and request.path.startswith("/admin/") else ""
    record(AccessKind.LOGIN, user=user, address=client_address(request), detail=how, actor=user)


def logged_out(sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any) -> None:
    from madoguchi.accounts.throttle import client_address

    if user is not None:
        record(AccessKind.LOGOUT, user=user, address=client_address(request), actor=user)


def login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    from madoguchi.accounts.throttle import client_address

    username = str(credentials.get("username", ""))[:150]
    record(AccessKind.LOGIN_FAILED, username=username, address=client_address(request))  # by whoever typed it


def page(before: str = "", kind: str = "") -> tuple[list[AccessEvent], str | None]:
    """A page of the log, newest first (keyset on id)."""
    rows = AccessEvent.objects.select_related("actor").order_by("-id")
    if kind in AccessKind.values:
        rows = rows.filter(kind=kind)
    if before.isdigit():
        rows = rows.filter(id__lt=int(before))
    found = list(rows[: PAGE_SIZE + 1])
    return found[:PAGE_SIZE], (str(found[PAGE_SIZE - 1].pk) if len(found) > PAGE_SIZE else None)
