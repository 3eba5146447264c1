"""Every change to the shop's settings is recorded (who, when, old → new) and shown to admins on
/settings/audit/ 「設定の変更履歴」, newest first; the record itself cannot be written by hand."""

from __future__ import annotations

import re

import pytest

from madoguchi.accounts.models import AuthorityLimit, Role
from madoguchi.cases.models import Category
from madoguchi.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(client):
    user = UserFactory(username="owner", display_name="店長 木村", role=Role.ADMIN, is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def audit_page(client, query: str = "") -> str:
    response = client.get("/settings/audit/" + query)
    assert response.status_code == 200
    return response.content.decode()


def entries(html: str) -> list[str]:
    """The rows of the trail as text, newest first."""
    rows = re.findall(r"<tr>\s*<td><time.*?</tr>", html, flags=re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows]


def test_a_limit_changed_on_the_settings_page_is_in_the_trail(client, owner):
    AuthorityLimit.objects.create(role=Role.AGENT, max_compensation_yen=3000)
    AuthorityLimit.objects.create(role=Role.LEAD, max_compensation_yen=30000)
    assert client.post("/settings/limits/", {"agent": "5000", "lead": "30000"}).status_code == 302

    rows = entries(audit_page(client))
    assert len(rows) == 1
    row = rows[0]
    assert "店長 木村" in row and "設定画面" in row and "権限の上限" in row
    assert "担当者の上限（円）: 3000 → 5000" in row
    assert "チームリーダー" not in row  # unchanged fields are not listed
    assert re.search(r"\d{4}/\d{2}/\d{2} \d{2}:\d{2} JST", row)


def test_saving_without_a_change_records_nothing(client, owner):
    AuthorityLimit.objects.create(role=Role.AGENT, max_compensation_yen=3000)
    AuthorityLimit.objects.create(role=Role.LEAD, max_compensation_yen=30000)
    client.post("/settings/limits/", {"agent": "3000", "lead": "30000"})
    assert entries(audit_page(client)) == []


def test_a_category_added_on_the_settings_page_is_in_the_trail(client, owner):
    client.post("/settings/categories/", {"cat-code": "gift", "cat-name": "ギフト包装", "cat-position": "9", "cat-active": "on"})
    row = entries(audit_page(client))[0]
    assert "追加" in row and "分類" in row and "ギフト包装" in row


def test_a_category_renamed_in_the_admin_is_in_the_trail(client, owner):
    category = Category.objects.get(code="delivery")
    old_name = category.name
    response = client.post(f"/admin/cases/category/{category.pk}/change/", {
        "name": "配送・お届け", "code": category.code, "position": str(category.position), "active": "on",
    })
    assert response.status_code == 302
    row = entries(audit_page(client))[0]
    assert "管理画面" in row and "店長 木村" in row and "変更" in row
    assert f"{old_name} → 配送・お届け" in row


def test_a_category_deleted_in_the_admin_is_in_the_trail(client, owner):
    category = Category.objects.create(code="seasonal", name="季節限定品", position=99)
    assert client.post(f"/admin/cases/category/{category.pk}/delete/", {"post": "yes"}).status_code == 302
    row = entries(audit_page(client))[0]
    assert "削除" in row and "季節限定品" in row


def test_a_users_role_changed_in_the_admin_is_in_the_trail_and_a_password_is_never_shown(client, owner):
    agent = UserFactory(username="suzuki", display_name="鈴木 一郎", role=Role.AGENT)
    response = client.post(f"/admin/accounts/user/{agent.pk}/change/", {
        "username": "suzuki", "display_name": "鈴木 一郎", "role": Role.LEAD, "is_active": "on",
        "date_joined_0": "2026-01-05", "date_joined_1": "09:00:00", "first_name": "", "last_name": "", "email": "",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    response = client.post(f"/admin/accounts/user/{agent.pk}/password/", {
        "password1": "新しい長い合言葉-2026", "password2": "新しい長い合言葉-2026", "usable_password": "true",
    })
    assert response.status_code == 302
    html = audit_page(client)
    rows = entries(html)
    assert "役割: 担当者 → チームリーダー" in rows[1]
    assert "鈴木 一郎" in rows[0] and "********" in rows[0]
    agent.refresh_from_db()
    assert agent.password not in html and "新しい合言葉" not in html


def test_a_mailbox_password_set_in_the_admin_is_masked(client, owner):
    response = client.post("/admin/mail/mailbox/add/", {
        "name": "サポート窓口", "address": "support@shop.example.jp", "charset": "utf-8", "imap_port": "993",
        "imap_folder": "INBOX", "poll_seconds": "60", "imap_host": "imap.shop.example.jp", "imap_user": "support",
        "imap_password": "imap-秘密-123", "active": "on", "approval": "flagged",
    })
    assert response.status_code == 302
    html = audit_page(client)
    assert "サポート窓口" in html and "imap-秘密-123" not in html


@pytest.mark.parametrize("role", [Role.AGENT, Role.LEAD])
def test_only_admins_see_the_trail(client, role):
    client.force_login(UserFactory(role=role))
    assert client.get("/settings/audit/").status_code == 403


def test_the_trail_cannot_be_written_in_the_admin(client, owner):
    client.post("/settings/limits/", {"agent": "4000", "lead": "40000"})
    from madoguchi.accounts.models import SettingsChange

    entry = SettingsChange.objects.get()
    assert client.post("/admin/accounts/settingschange/add/", {"target": "偽", "action": "change"}).status_code == 403
    assert client.post(f"/admin/accounts/settingschange/{entry.pk}/change/", {"target": "偽"}).status_code == 403
    assert client.post(f"/admin/accounts/settingschange/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert SettingsChange.objects.get().target == "権限の上限"
    assert client.get(f"/admin/accounts/settingschange/{entry.pk}/change/").status_code == 200


def test_the_trail_is_newest_first_a_page_at_a_time(client, owner):
    for n in range(1, 56):  # 55 changes, each one of a different value
        client.post("/settings/limits/", {"agent": str(1000 + n), "lead": "30000"})
    first = entries(audit_page(client))
    assert len(first) == 50
    assert "→ 1055" in first[0] and "→ 1006" in first[-1]
    more = re.search(r'href="\?before=(\d+)"', audit_page(client))
    assert more
    second = entries(audit_page(client, f"?before={more.group(1)}"))
    assert len(second) == 5 and "→ 1005" in second[0] and "→ 1001" in second[-1]
    assert 'href="?before=' not in audit_page(client, f"?before={more.group(1)}")


def test_a_target_changed_by_a_lead_is_in_the_trail(client, owner):
    from django.test import Client

    lead = UserFactory(username="takahashi", display_name="高橋 美咲", role=Role.LEAD)
    lead_client = Client()
    lead_client.force_login(lead)
    assert lead_client.post("/metrics/targets/", {"csat": "90", "chat_first_answer_median": "120"}).status_code == 302
    row = entries(audit_page(client))[0]
    assert "高橋 美咲" in row and "目標" in row
    assert "顧客満足度（CSAT）: 85 → 90" in row
    assert "チャット" not in row  # unchanged
