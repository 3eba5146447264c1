"""Nobody sees what their role does not allow; admins set the authority limits."""

from __future__ import annotations

import pytest

from madoguchi.accounts.models import AuthorityLimit, Role
from madoguchi.accounts.services import can_approve, compensation_limit_yen
from madoguchi.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/settings/", "/approvals/", "/admin/"])
def test_agent_is_kept_out_of_lead_and_admin_pages(client, url):
    client.force_login(UserFactory(role=Role.AGENT))
    response = client.get(url)
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert "/login/" in response.url


def test_lead_sees_approvals_but_not_settings(client):
    client.force_login(UserFactory(role=Role.LEAD))
    assert client.get("/approvals/").status_code == 200
    assert client.get("/settings/").status_code == 403


def test_admin_sets_limits_and_they_apply(client):
    client.force_login(UserFactory(role=Role.ADMIN))
    response = client.post("/settings/limits/", {"agent": "5000", "lead": "50000"})
    assert response.status_code == 302
    assert AuthorityLimit.objects.get(role=Role.AGENT).max_compensation_yen == 5000
    assert compensation_limit_yen(UserFactory(role=Role.AGENT)) == 5000


def test_negative_limit_is_refused_in_japanese(client):
    client.force_login(UserFactory(role=Role.ADMIN))
    response = client.post("/settings/limits/", {"agent": "-1", "lead": "abc"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "0 以上" in body or "以上" in body
    assert not AuthorityLimit.objects.exists()


def test_lead_approves_only_within_their_own_limit():
    AuthorityLimit.objects.create(role=Role.LEAD, max_compensation_yen=30000)
    lead = UserFactory(role=Role.LEAD)
    assert can_approve(lead, 30000) and not can_approve(lead, 30001)
    assert not can_approve(UserFactory(role=Role.AGENT), 1)
    assert can_approve(UserFactory(role=Role.ADMIN), 10_000_000)
