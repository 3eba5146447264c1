"""The Japanese pages: each person's API tokens under 自分の設定 (shown once, listed by their
first characters, revocable by their owner only) and the admins' webhook page (audited)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from madoguchi.accounts.models import SettingsChange
from madoguchi.api.models import ApiToken, WebhookEndpoint
from madoguchi.api.tests.conftest import Staff
from madoguchi.testing.factories import PASSWORD

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_a_token_is_shown_once_then_listed_by_its_start_and_revoked_by_its_owner(staff: Staff) -> None:
    client = logged_in(staff.agent)
    assert "API トークン" in client.get("/settings/me/").content.decode()
    made = client.post("/settings/me/api/", {"name": "受注システム連携", "scope": "write", "resources": ["cases", "orders"]})
    assert made.status_code == 200
    token = re.search(r'data-testid="new-token">(mdg_[A-Za-z0-9_-]+)<', made.content.decode()).group(1)  # type: ignore[union-attr]
    row = ApiToken.objects.get()
    assert row.user == staff.agent and row.resources == ["cases", "orders"] and row.scope == "write"
    listed = client.get("/settings/me/api/").content.decode()
    assert token not in listed and row.prefix in listed and "受注システム連携" in listed
    api = Client()
    assert api.get("/api/v1/cases", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    assert "—" not in client.get("/settings/me/api/").content.decode().split("受注システム連携")[1].split("</tr>")[0]
    other = logged_in(staff.lead)
    assert other.post(f"/settings/me/api/{row.pk}/revoke/").status_code == 404  # not theirs
    assert "受注システム連携" not in other.get("/settings/me/api/").content.decode()
    assert client.post(f"/settings/me/api/{row.pk}/revoke/").status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None
    assert api.get("/api/v1/cases", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_a_token_form_with_mistakes_says_so_in_japanese(staff: Staff) -> None:
    response = logged_in(staff.agent).post("/settings/me/api/", {"name": "", "scope": "everything"})
    assert response.status_code == 400
    assert "このフィールドは必須です" in response.content.decode() or "必須" in response.content.decode()
    assert ApiToken.objects.count() == 0


def test_the_webhook_page_is_for_admins_and_every_change_is_audited(staff: Staff) -> None:
    assert logged_in(staff.lead).get("/settings/webhooks/").status_code == 403
    admin = logged_in(staff.admin)
    assert "Webhook" in admin.get("/settings/").content.decode()
    bad = admin.post("/settings/webhooks/", {"url": "ftp://example.jp/hook", "events": ["case.created"]})
    assert bad.status_code == 400 and "http:// か https://" in bad.content.decode()
    none = admin.post("/settings/webhooks/", {"url": "https://example.jp/hook"})
    assert none.status_code == 400 and WebhookEndpoint.objects.count() == 0
    assert admin.post("/settings/webhooks/", {"url": "https://example.jp/hook", "events": ["case.created"],
                                              "active": "on"}).status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert admin.post(f"/settings/webhooks/{endpoint.pk}/toggle/").status_code == 302
    endpoint.refresh_from_db()
    assert not endpoint.active
    assert admin.post(f"/settings/webhooks/{endpoint.pk}/delete/").status_code == 302
    assert WebhookEndpoint.objects.count() == 0
    trail = list(SettingsChange.objects.order_by("pk").values_list("action", flat=True))
    assert len(trail) == 3
    assert all(webhook_secret not in str(change.changes) for change in SettingsChange.objects.all()
               for webhook_secret in ["whsec_"])
