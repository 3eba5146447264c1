"""Shared reply templates (macros), edited on /knowledge/templates/: a lead edits their team's,
an admin the shared ones; every change to a shared or team template is in the settings audit."""

from __future__ import annotations

import pytest

from madoguchi.accounts.models import Role, SettingsChange
from madoguchi.knowledge.models import ReplyTemplate
from madoguchi.testing.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def form(**changes):
    data = {"name": "配送遅延のお詫び", "kind": "body", "body": "{{ customer.name }}様\nお待たせして申し訳ございません。",
            "position": "0", "scope": "team", "promise": "", "promise_business_hours": ""}
    return data | changes


@pytest.fixture
def lead(client):
    team = TeamFactory(name="お客様サポート課")
    user = UserFactory(username="sato", role=Role.LEAD, team=team)
    team.lead = user
    team.save()
    client.force_login(user)
    return user


def test_the_list_is_linked_from_the_settings_pages(admin_client):
    assert 'href="/knowledge/templates/"' in admin_client.get("/settings/hours/").content.decode()
    assert 'href="/knowledge/templates/"' in admin_client.get("/settings/").content.decode()


def test_a_lead_adds_and_edits_a_team_template_and_both_are_audited(client, lead):
    assert client.post("/knowledge/templates/new/", form()).status_code == 302
    template = ReplyTemplate.objects.get(name="配送遅延のお詫び")
    assert template.team == lead.team and template.owner is None
    assert client.post(f"/knowledge/templates/{template.pk}/", form(body="{{ customer.name }}様\n大変お待たせしております。")).status_code == 302
    added, changed = SettingsChange.objects.filter(target="返信テンプレート").order_by("id")
    assert added.action == "add" and added.source == "other"
    assert changed.action == "change" and [c["field"] for c in changed.changes] == ["body"]
    assert "大変お待たせしております" in changed.changes[0]["new"]


def test_bad_input_is_refused_in_japanese_and_nothing_is_saved(client, lead):
    response = client.post("/knowledge/templates/new/", form(promise="物流部に確認する"))
    assert response.status_code == 400
    assert "約束を登録するには、約束の内容と期限（営業時間で何時間後）の両方を入力してください。" in response.content.decode()
    assert not ReplyTemplate.objects.filter(name="配送遅延のお詫び").exists() and not SettingsChange.objects.exists()


def test_a_lead_may_not_make_a_shared_template_and_an_agent_may_not_edit_one(client, lead):
    response = client.post("/knowledge/templates/new/", form(scope="shared"))
    assert response.status_code == 400 and "全員用は管理者が作れます" in response.content.decode()
    shared = ReplyTemplate.objects.create(name="共通のお詫び", body="申し訳ございません。")
    client.force_login(UserFactory(username="tanaka", role=Role.AGENT, team=lead.team))
    response = client.post(f"/knowledge/templates/{shared.pk}/", form(name="書き換え", scope="shared"))
    assert response.status_code == 302 and response["Location"] == "/knowledge/templates/"
    assert ReplyTemplate.objects.get(pk=shared.pk).name == "共通のお詫び" and not SettingsChange.objects.exists()


def test_a_personal_template_is_not_the_shops_configuration(client, lead):
    assert client.post("/knowledge/templates/new/", form(scope="personal")).status_code == 302
    assert ReplyTemplate.objects.get(name="配送遅延のお詫び").owner == lead
    assert not SettingsChange.objects.exists()
