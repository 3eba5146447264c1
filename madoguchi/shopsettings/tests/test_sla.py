"""SLAポリシー on the desk: listed, added, edited and deleted by admins, audited."""

from __future__ import annotations

import pytest

from madoguchi.accounts.models import SettingsChange
from madoguchi.metrics.models import SlaPolicy

pytestmark = pytest.mark.django_db

GOOD = {"name": "電話・高", "priority": "", "channel": "phone", "category": "", "first_response_minutes": "30",
        "next_response_minutes": "60", "resolution_minutes": "960", "warn_percent": "80", "position": "5"}


def rows() -> list[tuple]:
    return list(SlaPolicy.objects.order_by("id").values_list(
        "name", "priority", "channel", "category", "first_response_minutes", "next_response_minutes",
        "resolution_minutes", "warn_percent", "position"))


def test_the_list_shows_the_policies(admin_client):
    page = admin_client.get("/settings/sla/").content.decode()
    for policy in SlaPolicy.objects.all():
        assert policy.name in page


def test_a_new_policy_is_saved_and_audited(admin_client):
    assert admin_client.post("/settings/sla/new/", GOOD).status_code == 302
    policy = SlaPolicy.objects.get(name="電話・高")
    assert (policy.channel, policy.first_response_minutes, policy.resolution_minutes) == ("phone", 30, 960)
    change = SettingsChange.objects.get(target="SLAポリシー")
    assert change.action == "add" and change.object_repr == "電話・高"


def test_an_edit_is_audited_with_old_and_new(admin_client):
    policy = SlaPolicy.objects.order_by("id").first()
    data = {**GOOD, "name": policy.name, "channel": policy.channel, "priority": policy.priority or "",
            "category": policy.category_id or "", "first_response_minutes": policy.first_response_minutes + 15,
            "next_response_minutes": policy.next_response_minutes, "resolution_minutes": policy.resolution_minutes,
            "warn_percent": policy.warn_percent, "position": policy.position}
    assert admin_client.post(f"/settings/sla/{policy.pk}/", data).status_code == 302
    change = SettingsChange.objects.get(target="SLAポリシー")
    assert change.action == "change"
    assert change.changes == [{"field": "first_response_minutes", "label": "初回応答（営業時間・分）",
                               "old": str(policy.first_response_minutes), "new": str(policy.first_response_minutes + 15)}]


@pytest.mark.parametrize(("change", "message"), [
    ({"first_response_minutes": "0"}, "1分から525,600分までで入れてください。"),
    ({"first_response_minutes": "abc"}, "整数を入力してください。"),
    ({"resolution_minutes": "10"}, "解決の目標は、初回応答の目標以上にしてください。"),
    ({"warn_percent": "100"}, "この値は 99 以下でなければなりません。"),
    ({"name": ""}, "このフィールドは必須です。"),
])
def test_bad_input_is_refused_in_japanese_and_nothing_is_saved(admin_client, change, message):
    before = rows()
    response = admin_client.post("/settings/sla/new/", {**GOOD, **change})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert rows() == before and not SettingsChange.objects.exists()


def test_a_second_policy_with_the_same_conditions_is_refused(admin_client):
    assert admin_client.post("/settings/sla/new/", GOOD).status_code == 302
    response = admin_client.post("/settings/sla/new/", {**GOOD, "name": "もう一つ"})
    assert response.status_code == 400
    assert "同じ条件（優先度・窓口・分類）のSLAポリシー「電話・高」がすでにあります。" in response.content.decode()
    assert not SlaPolicy.objects.filter(name="もう一つ").exists()


def test_delete_is_audited_but_the_last_policy_stays(admin_client):
    policies = list(SlaPolicy.objects.order_by("id"))
    for policy in policies[:-1]:
        assert admin_client.post(f"/settings/sla/{policy.pk}/delete/").status_code == 302
    assert SettingsChange.objects.filter(target="SLAポリシー", action="delete").count() == len(policies) - 1
    last = policies[-1]
    response = admin_client.post(f"/settings/sla/{last.pk}/delete/", follow=True)
    assert "最後のSLAポリシーは削除できません" in response.content.decode()
    assert SlaPolicy.objects.filter(pk=last.pk).exists()


@pytest.mark.parametrize("who", ["lead_client", "agent_client"])
def test_leads_and_agents_may_not_change_policies(request, who):
    client = request.getfixturevalue(who)
    before = rows()
    assert client.get("/settings/sla/").status_code == 403
    assert client.post("/settings/sla/new/", GOOD).status_code == 403
    policy = SlaPolicy.objects.first()
    assert client.post(f"/settings/sla/{policy.pk}/delete/").status_code == 403
    assert rows() == before
