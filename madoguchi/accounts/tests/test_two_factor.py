"""Two-factor sign-in (issue 21, finding 6): set up with a QR code, codes computed here by RFC 6238
(not by the library under test), recovery codes used once, the shop's requirement for admins, and
no way around the code step (the admin site's login, a session from before)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import time

import pytest
from django.urls import reverse

from madoguchi.accounts import two_factor
from madoguchi.accounts.models import AccessEvent, AccessKind, LoginFailure, Role
from madoguchi.testing.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "pass-窓口-2026"


def totp(secret_base32: str, at: float | None = None, step: int = 30) -> str:
    """RFC 6238 TOTP (HMAC-SHA1, 6 digits) from the base32 secret the page shows."""
    key = base64.b32decode(secret_base32.replace(" ", ""))
    counter = int((time.time() if at is None else at) // step)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def sign_in(client, username: str, password: str = PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


def enrol(client) -> tuple[str, list[str]]:
    """Set the app up on the person's own page; returns the secret and the recovery codes."""
    page = client.get(reverse("accounts:two_factor")).content.decode()
    assert "<svg" in page and "<path" in page  # the QR code, drawn on the desk
    secret = re.search(r'data-testid="secret">([A-Z2-7 ]+)<', page).group(1)
    done = client.post(reverse("accounts:two_factor"), {"action": "enrol", "code": totp(secret)})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", done.content.decode())
    assert len(codes) == 10
    return secret, codes


def test_enrolled_user_needs_the_code_and_a_wrong_one_is_refused_and_counted(client):
    UserFactory(username="tanaka")
    assert sign_in(client, "tanaka").status_code == 302
    secret, _codes = enrol(client)
    assert two_factor.is_on(UserFactory._meta.model.objects.get(username="tanaka"))
    client.post(reverse("logout"))

    step = sign_in(client, "tanaka")
    assert step.status_code == 302 and step.url == reverse("login_2fa")
    assert client.get(reverse("cases:inbox")).status_code == 302  # not signed in between the steps
    wrong = client.post(reverse("login_2fa"), {"code": "000000" if totp(secret) != "000000" else "111111"})
    assert wrong.status_code == 400 and "コードが違います" in wrong.content.decode()
    assert LoginFailure.objects.filter(username="tanaka").count() == 1
    assert AccessEvent.objects.filter(kind=AccessKind.TWO_FACTOR_FAILED, username="tanaka").exists()
    time.sleep(1.1)  # django-otp's own throttle: a device refuses for 1 s after a wrong code
    # The next time step's code (within the allowed drift): the previous one may have been used.
    right = client.post(reverse("login_2fa"), {"code": totp(secret, time.time() + 30)})
    assert right.status_code == 302
    assert client.get(reverse("cases:inbox")).status_code == 200


def test_a_recovery_code_works_once(client):
    UserFactory(username="suzuki")
    sign_in(client, "suzuki")
    _secret, codes = enrol(client)
    for attempt in range(2):
        client.post(reverse("logout"))
        sign_in(client, "suzuki")
        answer = client.post(reverse("login_2fa"), {"code": codes[0]})
        assert answer.status_code == (302 if attempt == 0 else 400)


def test_the_set_up_page_needs_a_signed_in_user(client):
    response = client.get(reverse("accounts:two_factor"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_the_code_step_expires_and_needs_the_password_first(client):
    UserFactory(username="kato")
    sign_in(client, "kato")
    secret, _ = enrol(client)
    client.post(reverse("logout"))
    assert client.post(reverse("login_2fa"), {"code": totp(secret)}).status_code == 302  # back to the login
    assert client.get(reverse("cases:inbox")).status_code == 302
    sign_in(client, "kato")
    session = client.session
    session[two_factor.PENDING]["at"] -= two_factor.PENDING_SECONDS + 1
    session.save()
    late = client.post(reverse("login_2fa"), {"code": totp(secret)})
    assert late.status_code == 302 and late.url == reverse("login")


def test_shop_requires_it_of_admins_who_set_it_up_at_login(client):
    owner = UserFactory(username="owner", role=Role.ADMIN)
    UserFactory(username="agent")
    client.force_login(owner)
    client.get(reverse("cases:inbox"))
    saved = client.post(reverse("accounts:save_security"), {"admins_need_two_factor": "on"})
    assert saved.status_code == 302 and two_factor.admins_need_it()
    # The admin's own open session is ended at the next request (it gave no code).
    assert client.get(reverse("cases:inbox")).status_code == 302
    assert client.get(reverse("cases:inbox")).url.startswith(reverse("login"))

    # Signing in, the admin must set the app up before anything else.
    assert sign_in(client, "owner").url == reverse("login_2fa")
    page = client.get(reverse("login_2fa")).content.decode()
    assert "管理者に2段階認証が必要です" in page
    secret = re.search(r'data-testid="secret">([A-Z2-7 ]+)<', page).group(1)
    done = client.post(reverse("login_2fa"), {"code": totp(secret)})
    assert done.status_code == 200 and len(re.findall(r"<li><code>", done.content.decode())) == 10
    assert client.get(reverse("accounts:settings")).status_code == 200
    # An admin cannot turn it off while the shop requires it; an agent needs no code.
    refused = client.post(reverse("accounts:two_factor"), {"action": "off", "code": totp(secret, time.time() + 30)})
    assert refused.status_code == 400 and two_factor.is_on(owner)
    client.post(reverse("logout"))
    assert sign_in(client, "agent").url == reverse("cases:inbox")


def test_the_admin_sites_login_does_not_skip_the_code(client):
    UserFactory(username="root", role=Role.ADMIN, is_staff=True, is_superuser=True)
    sign_in(client, "root")
    enrol(client)
    client.post(reverse("logout"))
    client.post("/admin/login/", {"username": "root", "password": PASSWORD, "next": "/admin/"})
    after = client.get("/admin/")
    assert after.status_code == 302 and after.url.startswith(reverse("login"))
    assert client.get(reverse("cases:inbox")).status_code == 302
