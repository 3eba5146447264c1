"""利用者とチーム on the desk: invite by mail (a one-time, expiring link to set a password),
change role and team, stop an account (never the last admin or oneself), reset a password."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from madoguchi.accounts.models import AccessEvent, Role, SettingsChange, Team, User
from madoguchi.cases.models import Case
from madoguchi.mail.models import OutboundMessage
from madoguchi.testing.factories import CaseFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("huey_immediate")]
NEW_PASSWORD = "mado-guchi-2026-spring"


def invite(client, **fields):
    data = {"invite-email": "yamada@example.jp", "invite-username": "yamada", "invite-display_name": "山田 太郎",
            "invite-role": "agent", "invite-team": ""}
    data.update({f"invite-{k}": v for k, v in fields.items()})
    return client.post("/settings/users/invite/", data)


def link_in(body: str) -> str:
    match = re.search(r"https?://\S+/settings/password/\S+/", body)
    assert match, body
    return "/" + match.group(0).split("://", 1)[1].split("/", 1)[1]


def test_an_invited_person_sets_a_password_once_with_the_mailed_link_and_logs_in(admin_client, admin_user):
    team = TeamFactory(name="お客様サポート課")
    assert invite(admin_client, team=str(team.pk)).status_code == 302
    user = User.objects.get(username="yamada")
    assert (user.role, user.team, user.is_active, user.has_usable_password()) == (Role.AGENT, team, True, False)
    assert OutboundMessage.objects.get(to_address="yamada@example.jp").state == "sent"  # through the outbox
    (sent,) = mail.outbox
    assert sent.subject == "【窓口】アカウントのご案内" and "ユーザー名: yamada" in sent.body
    path = link_in(sent.body)
    change = SettingsChange.objects.get(target="利用者")
    assert change.action == "add" and {"役割": "担当者", "チーム": "お客様サポート課", "操作": "招待メールを送信"}.items() <= {
        c["label"]: c["new"] for c in change.changes}.items()

    visitor = Client()
    assert visitor.login(username="yamada", password="") is False
    page = visitor.get(path)
    assert page.status_code == 200 and "ユーザー名: yamada" in page.content.decode()
    too_short = visitor.post(path, {"new_password1": "abc", "new_password2": "abc"})
    assert too_short.status_code == 400 and "このパスワードは短すぎます" in too_short.content.decode()
    mismatch = visitor.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"})
    assert mismatch.status_code == 400 and "確認用パスワードが一致しません" in mismatch.content.decode()
    assert User.objects.get(pk=user.pk).has_usable_password() is False
    assert visitor.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}).status_code == 302
    assert visitor.login(username="yamada", password=NEW_PASSWORD)
    used = Client().get(path)
    assert used.status_code == 404 and "このリンクは使えません" in used.content.decode()


def test_the_link_expires(admin_client, settings):
    assert invite(admin_client).status_code == 302
    path = link_in(mail.outbox[0].body)
    settings.PASSWORD_RESET_TIMEOUT = -1  # every link made is already older than this
    assert Client().get(path).status_code == 404


def test_a_tampered_link_is_refused(admin_client):
    assert invite(admin_client).status_code == 302
    path = link_in(mail.outbox[0].body)
    assert Client().get(path[:-3] + "xx/").status_code == 404
    assert Client().get("/settings/password/zzz/abc/").status_code == 404


@pytest.mark.parametrize(("fields", "message"), [
    ({"email": "not-an-address"}, "有効なメールアドレスを入力してください。"),
    ({"username": "kimura"}, "このユーザー名はすでに使われています。"),
    ({"email": "KIMURA@example.jp"}, "このメールアドレスの利用者はすでにいます。"),
    ({"username": "山田 太郎!"}, "有効なユーザー名を入力してください。"),
    ({"role": "owner"}, "正しく選択してください。"),
])
def test_bad_invitations_are_refused_in_japanese_and_nothing_is_sent(admin_client, fields, message):
    count = User.objects.count()
    response = invite(admin_client, **fields)
    assert response.status_code == 400 and message in response.content.decode()
    assert User.objects.count() == count and not mail.outbox and not OutboundMessage.objects.exists()
    assert not SettingsChange.objects.exists()


def test_role_and_team_are_changed_and_audited(admin_client):
    person = UserFactory(username="suzuki", role=Role.AGENT, email="suzuki@example.jp")
    team = TeamFactory(name="返品チーム")
    data = {"display_name": "鈴木 一郎", "email": "suzuki@example.jp", "role": "lead", "team": str(team.pk)}
    assert admin_client.post(f"/settings/users/{person.pk}/", data).status_code == 302
    person.refresh_from_db()
    assert (person.role, person.team) == (Role.LEAD, team)
    change = SettingsChange.objects.get(target="利用者")
    assert {c["label"]: (c["old"], c["new"]) for c in change.changes if c["label"] in ("役割", "チーム")} == {
        "役割": ("担当者", "チームリーダー"), "チーム": ("", "返品チーム")}
    assert AccessEvent.objects.filter(kind="permission", username="suzuki", detail__contains="チームリーダー").exists()


def test_the_last_admin_cannot_be_demoted_nor_change_their_own_role(admin_client, admin_user):
    data = {"display_name": "店長", "email": "kimura@example.jp", "role": "agent", "team": ""}
    response = admin_client.post(f"/settings/users/{admin_user.pk}/", data)
    assert response.status_code == 400 and "ご自身の役割は変更できません。" in response.content.decode()
    other = UserFactory(username="honda", role=Role.ADMIN, email="honda@example.jp")
    admin_user.is_active = False
    admin_user.save()
    # As the only active admin left, honda may not be made a lead by anyone.
    from madoguchi.shopsettings.forms import UserEditForm

    form = UserEditForm({"display_name": "", "email": "honda@example.jp", "role": "lead", "team": ""}, instance=other,
                        actor=admin_user)
    assert not form.is_valid() and "最後の管理者の役割は変更できません。" in str(form.errors)
    assert User.objects.get(pk=other.pk).role == Role.ADMIN


def test_a_stopped_account_cannot_log_in_and_keeps_its_cases(admin_client):
    person = UserFactory(username="ito", role=Role.AGENT)
    case = CaseFactory(assignee=person)
    session = Client()
    assert session.login(username="ito", password="pass-窓口-2026")
    assert session.get("/").status_code == 200
    assert admin_client.post(f"/settings/users/{person.pk}/active/", {"active": "0"}).status_code == 302
    person.refresh_from_db()
    assert person.is_active is False
    assert Case.objects.get(pk=case.pk).assignee_id == person.pk  # their history stays theirs
    assert session.get("/").status_code == 302  # the open session ends
    assert not Client().login(username="ito", password="pass-窓口-2026")
    change = SettingsChange.objects.get(target="利用者")
    assert change.changes == [{"field": "is_active", "label": "有効", "old": "はい", "new": "いいえ"}]
    assert admin_client.post(f"/settings/users/{person.pk}/active/", {"active": "1"}).status_code == 302
    assert Client().login(username="ito", password="pass-窓口-2026")


def test_nobody_stops_their_own_account_or_the_last_admin(admin_client, admin_user):
    response = admin_client.post(f"/settings/users/{admin_user.pk}/active/", {"active": "0"}, follow=True)
    assert "ご自身のアカウントは停止できません。" in response.content.decode()
    assert User.objects.get(pk=admin_user.pk).is_active
    superuser = UserFactory(username="root", role=Role.AGENT, is_superuser=True)
    # kimura and root are the admins; stopping root leaves kimura: allowed.
    assert admin_client.post(f"/settings/users/{superuser.pk}/active/", {"active": "0"}).status_code == 302
    assert not User.objects.get(pk=superuser.pk).is_active
    from madoguchi.shopsettings import services

    other = UserFactory(username="honda", role=Role.ADMIN)
    User.objects.filter(pk=admin_user.pk).update(is_active=False)
    with pytest.raises(services.SettingsRefused, match="最後の管理者は停止できません"):
        services.do_set_active(UserFactory(username="x", role=Role.ADMIN, is_active=False), other, False)


def test_a_password_reset_link_is_mailed_and_replaces_the_old_password(admin_client):
    person = UserFactory(username="takahashi", email="takahashi@example.jp")
    assert admin_client.post(f"/settings/users/{person.pk}/password-link/").status_code == 302
    (sent,) = mail.outbox
    assert sent.subject == "【窓口】パスワードの再設定" and sent.to == ["takahashi@example.jp"]
    path = link_in(sent.body)
    assert Client().post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}).status_code == 302
    assert not Client().login(username="takahashi", password="pass-窓口-2026")
    assert Client().login(username="takahashi", password=NEW_PASSWORD)
    assert SettingsChange.objects.get(target="利用者").changes[-1]["new"] == "パスワード再設定メールを送信"


def test_no_reset_link_for_a_stopped_account_or_one_without_an_address(admin_client):
    stopped = UserFactory(username="stopped", email="s@example.jp", is_active=False)
    no_mail = UserFactory(username="nomail", email="")
    response = admin_client.post(f"/settings/users/{stopped.pk}/password-link/", follow=True)
    assert "停止中のアカウントにはパスワードの設定メールを送れません。" in response.content.decode()
    response = admin_client.post(f"/settings/users/{no_mail.pk}/password-link/", follow=True)
    assert "メールアドレスがないため送れません。" in response.content.decode()
    assert not mail.outbox and not SettingsChange.objects.exists()


def test_a_team_is_added_and_audited_and_a_duplicate_refused(admin_client):
    assert admin_client.post("/settings/users/teams/", {"team-name": "ギフト窓口", "team-lead": ""}).status_code == 302
    assert Team.objects.filter(name="ギフト窓口").exists()
    assert SettingsChange.objects.get(target="チーム").action == "add"
    response = admin_client.post("/settings/users/teams/", {"team-name": "ギフト窓口", "team-lead": ""})
    assert response.status_code == 400 and "同じ名前のチームがすでにあります。" in response.content.decode()
    assert Team.objects.filter(name="ギフト窓口").count() == 1


@pytest.mark.parametrize("who", ["lead_client", "agent_client"])
def test_leads_and_agents_may_not_manage_users(request, who):
    client = request.getfixturevalue(who)
    person = UserFactory(username="target", email="t@example.jp")
    assert client.get("/settings/users/").status_code == 403
    assert invite(client).status_code == 403
    assert client.post(f"/settings/users/{person.pk}/active/", {"active": "0"}).status_code == 403
    assert client.post(f"/settings/users/{person.pk}/password-link/").status_code == 403
    assert client.post(f"/settings/users/{person.pk}/", {"role": "admin", "email": "t@example.jp"}).status_code == 403
    person.refresh_from_db()
    assert person.is_active and person.role == Role.AGENT and not mail.outbox
    assert not User.objects.filter(username="yamada").exists()


def test_a_team_is_renamed_given_a_lead_and_an_assignment_rule_and_audited(admin_client):
    team = TeamFactory(name="お客様サポート課")
    lead = UserFactory(username="kobayashi", role=Role.LEAD)
    page = admin_client.get("/settings/users/").content.decode()
    assert f'href="/settings/users/teams/{team.pk}/"' in page
    response = admin_client.post(f"/settings/users/teams/{team.pk}/",
                                 {"name": "返品・交換チーム", "lead": str(lead.pk), "assignment_rule": "round_robin"})
    assert response.status_code == 302
    team.refresh_from_db()
    assert (team.name, team.lead, team.assignment_rule) == ("返品・交換チーム", lead, "round_robin")
    change = SettingsChange.objects.get(target="チーム", action="change")
    assert "お客様サポート課" in str(change.changes) and "返品・交換チーム" in str(change.changes)


def test_renaming_a_team_to_a_taken_name_is_refused_in_japanese(admin_client):
    TeamFactory(name="ギフト窓口")
    team = TeamFactory(name="配送チーム")
    response = admin_client.post(f"/settings/users/teams/{team.pk}/", {"name": "ギフト窓口", "lead": "", "assignment_rule": "none"})
    assert response.status_code == 400 and "同じ名前のチームがすでにあります。" in response.content.decode()
    team.refresh_from_db()
    assert team.name == "配送チーム" and not SettingsChange.objects.filter(action="change").exists()


@pytest.mark.parametrize("who", ["lead_client", "agent_client"])
def test_leads_and_agents_may_not_edit_teams(request, who):
    team = TeamFactory(name="配送チーム")
    client = request.getfixturevalue(who)
    assert client.get(f"/settings/users/teams/{team.pk}/").status_code == 403
    assert client.post(f"/settings/users/teams/{team.pk}/", {"name": "乗っ取り", "lead": "", "assignment_rule": "none"}).status_code == 403
    team.refresh_from_db()
    assert team.name == "配送チーム"
