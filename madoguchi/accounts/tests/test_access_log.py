"""The access log (issue 21, APPI): sign-ins and failures without the password, role and
permission changes with who made them, shown to admins only on a Japanese page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from madoguchi.accounts.models import AccessEvent, AccessKind, Role, User
from madoguchi.testing.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "pass-窓口-2026"


def test_logins_and_failures_are_logged_without_the_password(client):
    UserFactory(username="tanaka")
    client.post(reverse("login"), {"username": "tanaka", "password": "まちがい-pass-99"}, REMOTE_ADDR="203.0.113.9")
    client.post(reverse("login"), {"username": "tanaka", "password": PASSWORD}, REMOTE_ADDR="203.0.113.9")
    client.post(reverse("logout"), REMOTE_ADDR="203.0.113.9")
    kinds = list(AccessEvent.objects.filter(username="tanaka").order_by("id").values_list("kind", "address"))
    assert kinds[-3:] == [(AccessKind.LOGIN_FAILED, "203.0.113.9"), (AccessKind.LOGIN, "203.0.113.9"),
                          (AccessKind.LOGOUT, "203.0.113.9")]
    for row in AccessEvent.objects.values("detail", "username", "address"):
        assert "まちがい" not in str(row) and PASSWORD not in str(row)


def test_role_changes_are_logged_with_who_made_them(client):
    owner = UserFactory(username="owner", role=Role.ADMIN, is_staff=True, is_superuser=True)
    agent = UserFactory(username="sato", display_name="佐藤 花子")
    client.force_login(owner)
    page = client.get(f"/admin/accounts/user/{agent.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k not in {"groups", "user_permissions", "password"}}
    data.update({"role": Role.LEAD, "date_joined_0": "2026-01-05", "date_joined_1": "09:00:00", "last_login_0": "", "last_login_1": ""})
    data["is_active"] = "on"
    response = client.post(f"/admin/accounts/user/{agent.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    event = AccessEvent.objects.filter(kind=AccessKind.PERMISSION, username="sato").first()  # newest first
    assert event.actor == owner and "役割: 担当者 → チームリーダー" in event.detail
    # A change made by a command or the shell has no signed-in actor.
    agent.refresh_from_db()
    agent.is_active = False
    agent.save()
    event = AccessEvent.objects.filter(kind=AccessKind.PERMISSION, username="sato").first()  # newest first
    assert event.actor is None and "有効: はい → いいえ" in event.detail


def test_only_admins_see_the_access_log_in_japanese(client):
    UserFactory(username="agent")
    owner = UserFactory(username="owner", role=Role.ADMIN)
    client.force_login(User.objects.get(username="agent"))
    assert client.get(reverse("accounts:access_log")).status_code == 403
    client.post(reverse("logout"))
    client.post(reverse("login"), {"username": "nobody", "password": "x" * 12})
    client.force_login(owner)
    page = client.get(reverse("accounts:access_log")).content.decode()
    assert "アクセス記録" in page and "ログインの失敗" in page and "nobody" in page
    only = client.get(reverse("accounts:access_log"), {"kind": AccessKind.PERMISSION}).content.decode()
    assert "nobody" not in only


def test_exports_are_logged(client):
    lead = UserFactory(username="sato", role=Role.LEAD)
    client.force_login(lead)
    response = client.get(reverse("metrics:dashboard"), {"format": "csv", "table": "summary"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    event = AccessEvent.objects.get(kind=AccessKind.EXPORT)
    assert event.actor == lead and "指標の CSV（summary" in event.detail
