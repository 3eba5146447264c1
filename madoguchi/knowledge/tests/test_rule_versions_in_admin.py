"""A rule changes in the admin by a new dated version; the versions already written (which flags
on customers cite) cannot be rewritten there, and the new version is in the settings audit."""

from __future__ import annotations

import datetime as dt

import pytest

from madoguchi.accounts.models import Role
from madoguchi.knowledge.models import Rule, RuleVersion
from madoguchi.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_old_versions_stay_and_a_new_one_is_added_and_audited(client):
    owner = UserFactory(username="owner", display_name="店長 木村", role=Role.ADMIN, is_staff=True, is_superuser=True)
    client.force_login(owner)
    rule = Rule.objects.create(code="returns-8days", title="返品は到着後8日以内", topic="returns")
    old = RuleVersion.objects.create(rule=rule, effective_from=dt.date(2026, 4, 1), body="到着後8日以内の返品を受け付けます。")
    response = client.post(f"/admin/knowledge/rule/{rule.pk}/change/", {
        "code": rule.code, "title": rule.title, "topic": rule.topic, "category": "",
        "versions-TOTAL_FORMS": "2", "versions-INITIAL_FORMS": "1", "versions-MIN_NUM_FORMS": "0", "versions-MAX_NUM_FORMS": "1000",
        "versions-0-id": str(old.pk), "versions-0-rule": str(rule.pk),
        "versions-0-effective_from": "2026-04-01", "versions-0-body": "返品は一切受け付けません。",
        "versions-1-rule": str(rule.pk), "versions-1-effective_from": "2026-12-01", "versions-1-body": "到着後14日以内の返品を受け付けます。",
    })
    assert response.status_code == 302
    old.refresh_from_db()
    assert old.body == "到着後8日以内の返品を受け付けます。"
    new = RuleVersion.objects.get(rule=rule, effective_from=dt.date(2026, 12, 1))
    assert new.author == owner and new.body == "到着後14日以内の返品を受け付けます。"
    page = client.get("/settings/audit/").content.decode()
    assert "ルールの版" in page and "到着後14日以内" in page
