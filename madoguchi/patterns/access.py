"""Who sees complaint patterns: team leads and admins, and the product and logistics staff of
SPEC's personas, who sign in as agents and are given the permission `patterns.view_patterns`
(Django admin, on the user or a group: every permission change is in the access log). Other
agents work cases; the patterns are not their page (403)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

from madoguchi.accounts.models import User

PERMISSION = "patterns.view_patterns"


def can_see_patterns(user: Any) -> bool:
    return isinstance(user, User) and user.is_active and (user.is_admin or user.is_lead or user.has_perm(PERMISSION))


def patterns_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not can_see_patterns(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper
