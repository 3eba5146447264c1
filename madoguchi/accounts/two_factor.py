"""Two-factor sign-in for staff (issue 21): a TOTP authenticator app (django-otp's TOTPDevice)
and ten one-time recovery codes (its StaticDevice), optional for everyone, required for admins
when the shop turns it on (`SecurityPolicy.admins_need_two_factor` on /settings/).

Sign-in is two steps and nobody is signed in between them: a right password of a user who needs
a code only leaves a note in the session (`PENDING`: who, and since when; five minutes), and the
code page (`/login/2fa/`) signs the user in once the code is right. An admin the shop requires to
use it who has no app yet sets it up on that page. A wrong code counts as a failed login (the
throttle's delays and lock, accounts/throttle.py) and is in the access log.

`TwoFactorMiddleware` closes the other ways into a session (the admin site's own login, sessions
from before the shop required it): a session whose user needs a code it never gave is ended.
The session remembers how it was opened (`SIGNED_IN`), so a desk request costs no query more.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from madoguchi.accounts.models import SecurityPolicy, User

PENDING = "madoguchi_2fa_pending"
PENDING_SECONDS = 300
SIGNED_IN = "madoguchi_signin"  # "otp": the code was given; "password": none was needed
RECOVERY_CODES = 10
_POLICY_CACHE = "madoguchi:admins-need-2fa"


def admins_need_it() -> bool:
    found = cache.get(_POLICY_CACHE)
    if found is None:
        found = SecurityPolicy.objects.filter(pk=1, admins_need_two_factor=True).exists()
        cache.set(_POLICY_CACHE, found, 30)
    return bool(found)


def do_set_admins_need_it(value: bool) -> None:
    SecurityPolicy.objects.update_or_create(pk=1, defaults={"admins_need_two_factor": value})
    cache.delete(_POLICY_CACHE)


def is_on(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def required_for(user: User) -> bool:
    return user.is_admin and admins_need_it()


def needs_code(user: User) -> bool:
    return is_on(user) or required_for(user)


# --- the pending sign-in ------------------------------------------------------------------------

def start_pending(request: HttpRequest, user: User, next_url: str) -> None:
    request.session[PENDING] = {"user": user.pk, "backend": getattr(user, "backend", ""), "at": time.time(),
                                "next": next_url}


def pending_user(request: HttpRequest) -> User | None:
    pending = request.session.get(PENDING)
    if not pending or time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        return None
    return User.objects.filter(pk=pending["user"], is_active=True).first()


def finish_sign_in(request: HttpRequest, user: User) -> str:
    """The code was right: the user is signed in (a new session key); returns where to go."""
    pending = request.session.pop(PENDING, {})
    auth_login(request, user, backend=pending.get("backend") or None)
    request.session[SIGNED_IN] = "otp"
    return str(pending.get("next") or reverse("cases:inbox"))


def check_code(user: User, code: str) -> bool:
    """A code of the user's authenticator app, or one of their unused recovery codes (used up)."""
    code = "".join(code.split()).lower()
    if not code or len(code) > 16:
        return False
    with transaction.atomic():
        return match_token(user, code) is not None


# --- setting it up --------------------------------------------------------------------------------

def enrolment(user: User) -> TOTPDevice:
    """The app being set up (a new secret until it is confirmed with a code)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


def secret_text(device: TOTPDevice) -> str:
    """The secret as the apps' manual entry wants it (base32, in groups of four)."""
    import base64

    text = base64.b32encode(device.bin_key).decode()
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// address as an inline SVG QR code (drawn here: nothing leaves the desk)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=16, border=2)
    svg: str = image.to_string(encoding="unicode")
    return svg


def do_confirm(user: User, device: TOTPDevice, code: str) -> list[str] | None:
    """The first code from the app: it is turned on (replacing an earlier one) and ten recovery
    codes are made. Returns the recovery codes (shown once), or None if the code was wrong."""
    with transaction.atomic():
        if device.user_id != user.pk or not device.verify_token("".join(code.split())):
            return None
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        return do_new_recovery_codes(user)


def do_new_recovery_codes(user: User) -> list[str]:
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        static = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
        StaticToken.objects.bulk_create(StaticToken(device=static, token=c) for c in codes)
    return codes


def do_turn_off(user: User) -> None:
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()


# --- every request ----------------------------------------------------------------------------------

SKIPPED = ("/jsi18n/", "/static/", "/healthz")


class TwoFactorMiddleware:
    """Ends a session whose user needs a code it never gave (see the module's docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Only a request with a session cookie, and not for the static files or the JavaScript
        # catalogue: reading the session adds `Vary: Cookie`, which would make the catalogue's
        # cache (madoguchi/urls.py) one entry per person.
        if settings.SESSION_COOKIE_NAME not in request.COOKIES or request.path.startswith(SKIPPED):
            return self.get_response(request)
        session = request.session
        if SESSION_KEY in session and BACKEND_SESSION_KEY in session:
            how = session.get(SIGNED_IN)
            user: Any = request.user
            if how != "otp" and user.is_authenticated and (
                (how is None and needs_code(user)) or (how == "password" and required_for(user))
            ):
                auth_logout(request)
                return redirect(f"{reverse('login')}?{urlencode({'next': request.get_full_path()})}")
            if how is None and user.is_authenticated:
                session[SIGNED_IN] = "password"
        return self.get_response(request)
