"""The customer's status page: signed links (tamper, revoke, expiry), what it shows and never
shows, who may make and withdraw links, and the link in the receipt mail."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import signing
from django.utils import timezone

from madoguchi.accounts.models import Role
from madoguchi.cases import services as case_services
from madoguchi.cases.models import AuditEvent, InteractionKind, Status
from madoguchi.progress import services
from madoguchi.progress.models import StatusLink
from madoguchi.testing.factories import CaseFactory, InteractionFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    lead = UserFactory(role=Role.LEAD, display_name="佐藤 美穂")
    team = TeamFactory(lead=lead)
    team.agent = UserFactory(team=team, display_name="田中 健太")
    team.other = UserFactory(team=team, display_name="鈴木 一郎")
    return team


@pytest.fixture
def case(team):
    return CaseFactory(assignee=team.agent, team=team, status=Status.OPEN, subject="【社内】配送業者のミス疑い")


def path_of(link: StatusLink) -> str:
    return f"/status/{services.token_for(link)}/"


def test_a_link_opens_the_page_without_login_in_japanese(client, case, team):
    case_services.do_add_commitment(case, actor=team.agent, description="代わりの商品を発送し、お問い合わせ番号をお知らせします",
                                    due_at=timezone.now() + dt.timedelta(days=2))
    link = services.do_get_link(case, actor=team.agent)
    response = client.get(path_of(link), HTTP_ACCEPT_LANGUAGE="en")
    body = response.content.decode()
    assert response.status_code == 200
    assert "お問い合わせの対応状況" in body and case.number in body
    assert "担当者が対応しております。" in body
    assert "代わりの商品を発送し、お問い合わせ番号をお知らせします" in body
    local = timezone.localtime(case.commitments.get().due_at)
    assert f"{local:%Y}年{local.month}月{local.day}日 {local:%H:%M}までに対応いたします" in body
    assert "時刻はすべて日本時間です。" in body
    assert response["X-Robots-Tag"].startswith("noindex")
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"
    assert StatusLink.objects.get().last_viewed_at is not None


def test_only_what_the_customer_knows_is_shown(client, case, team):
    case_services.do_add_commitment(case, actor=team.agent, description="倉庫の在庫を確認する（社内）",
                                    due_at=timezone.now() + dt.timedelta(days=1), internal=True, department="物流部")
    case_services.do_add_commitment(case, actor=team.agent, description="返金のお手続きをいたします",
                                    due_at=timezone.now() + dt.timedelta(days=1))
    case_services.do_add_interaction(case, actor=team.agent, kind=InteractionKind.NOTE, channel=case.channel,
                                     body="社内メモ: このお客様は要注意。クーポンは出さない")
    case_services.do_add_interaction(case, actor=None, kind=InteractionKind.SYSTEM, channel=case.channel,
                                     body="記録: SLA の期限を過ぎました")
    case_services.do_send_reply(case, actor=team.agent, body="山田様\n\nご不便をおかけし申し訳ございません。返金いたします。")
    case_services.do_request_compensation(case, actor=team.agent, kind="refund", amount_yen=1980, reason="配送遅延のおわび（原価計上）")
    body = client.get(path_of(services.do_get_link(case, actor=team.agent))).content.decode()
    assert "返金のお手続きをいたします" in body
    assert "ご不便をおかけし申し訳ございません。返金いたします。" in body
    for secret in ("倉庫の在庫を確認する", "物流部", "社内メモ", "要注意", "SLA", "原価計上", "1,980", "1980",
                   "【社内】配送業者のミス疑い", "田中 健太", "佐藤 美穂", case.complaint):
        assert secret not in body, secret


@pytest.mark.parametrize("token", [
    "1.abc", "abc", "..", "1.", "%00", "999999999999999999999.x", "1:abc", "<script>", "１.ａ",
])
def test_a_wrong_link_is_a_japanese_404_never_a_500(client, case, token):
    response = client.get(f"/status/{token}/")
    assert response.status_code == 404
    assert "このページは見つかりませんでした" in response.content.decode()
    assert response["X-Robots-Tag"].startswith("noindex")


def test_a_tampered_link_is_refused(client, case, team):
    other = CaseFactory(assignee=team.agent, team=team)
    mine = services.do_get_link(case, actor=team.agent)
    theirs = services.do_get_link(other, actor=team.agent)
    token = services.token_for(mine)
    forged = f"{theirs.pk}.{token.split('.', 1)[1]}"  # another case's id with this link's signature
    assert client.get(f"/status/{forged}/").status_code == 404
    # Signed with another purpose (salt): the same id but not a status link.
    other_salt = signing.Signer(salt="madoguchi.other", sep=".").sign(str(mine.pk))
    assert client.get(f"/status/{other_salt}/").status_code == 404
    assert client.get(f"/status/{token}/").status_code == 200


def test_a_revoked_or_expired_link_no_longer_opens(client, case, team):
    link = services.do_get_link(case, actor=team.agent)
    assert client.get(path_of(link)).status_code == 200
    new = services.do_revoke_links(case, actor=team.agent, renew=True)
    assert new is not None and new.pk != link.pk
    assert client.get(path_of(link)).status_code == 404
    assert client.get(path_of(new)).status_code == 200
    services.do_revoke_links(case, actor=team.lead, renew=False)
    assert client.get(path_of(new)).status_code == 404
    assert services.live_link(case) is None
    expiring = services.do_get_link(case, actor=team.agent)
    StatusLink.objects.filter(pk=expiring.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert client.get(path_of(expiring)).status_code == 404
    actions = list(AuditEvent.objects.filter(case=case, action__startswith="status_link").values_list("action", flat=True))
    assert actions == ["status_link_made", "status_link_renewed", "status_link_revoked", "status_link_made"]


def test_the_same_link_is_given_until_it_is_withdrawn(case, team):
    first = services.do_get_link(case, actor=team.agent)
    assert services.do_get_link(case, actor=team.other) == first
    assert StatusLink.objects.count() == 1


def test_any_agent_makes_a_link_but_only_the_assignee_lead_or_admin_withdraws_it(client, case, team):
    client.force_login(team.other)
    response = client.post(f"/progress/cases/{case.pk}/link/")
    assert response.status_code == 302
    link = StatusLink.objects.get(case=case)
    response = client.post(f"/progress/cases/{case.pk}/link/revoke/", {"renew": "0"}, follow=True)
    assert "リンクを無効にできるのは、この案件の担当者、チームのリーダー、管理者です。" in response.content.decode()
    assert services.link_from_token(services.token_for(link)) is not None
    with pytest.raises(case_services.CaseError):
        services.do_revoke_links(case, actor=team.other, renew=True)
    other_lead = UserFactory(role=Role.LEAD)
    TeamFactory(lead=other_lead)
    with pytest.raises(case_services.CaseError):
        services.do_revoke_links(case, actor=other_lead, renew=False)
    admin = UserFactory(role=Role.ADMIN)
    client.force_login(admin)
    client.post(f"/progress/cases/{case.pk}/link/revoke/", {"renew": "0"})
    assert services.link_from_token(services.token_for(link)) is None


def test_anonymous_visitors_cannot_make_or_withdraw_links(client, case):
    assert client.post(f"/progress/cases/{case.pk}/link/").status_code == 302
    assert not StatusLink.objects.exists()


def test_the_case_page_shows_the_link_and_its_buttons(client, case, team):
    client.force_login(team.agent)
    body = client.get(f"/cases/{case.pk}/").content.decode()
    assert "進捗ページのリンクを作る" in body
    link = services.do_get_link(case, actor=team.agent)
    body = client.get(f"/cases/{case.pk}/").content.decode()
    assert services.url_for(link) in body and "返信に入れる" in body and "リンクを作り直す" in body
    client.force_login(team.other)
    body = client.get(f"/cases/{case.pk}/").content.decode()
    assert services.url_for(link) in body and "リンクを作り直す" not in body


def test_the_page_is_rate_limited_per_address(client, case, team, settings):
    settings.PROGRESS_PAGE_PER_ADDRESS_PER_HOUR = 3
    path = path_of(services.do_get_link(case, actor=team.agent))
    assert [client.get(path).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert "アクセスが集中しています" in client.get(path).content.decode()


def test_a_resolved_case_says_so_and_kept_promises_are_listed_as_done(client, case, team):
    promise = case_services.do_add_commitment(case, actor=team.agent, description="交換品を発送します",
                                              due_at=timezone.now() + dt.timedelta(days=1))
    case_services.do_close_commitment(promise, actor=team.agent, kept=True)
    case_services.do_update_case(case, actor=team.agent, expected_version=case.version, changes={"status": Status.RESOLVED})
    body = client.get(path_of(services.do_get_link(case, actor=team.agent))).content.decode()
    assert "対応が完了いたしました。" in body and "✓ 交換品を発送します" in body
    assert "現在、お約束している対応はございません。" in body


def test_the_receipt_mail_carries_the_status_link(team, settings):
    from madoguchi.mail.outbound import acknowledgement_text

    case = CaseFactory(assignee=team.agent, team=team)
    text = acknowledgement_text(case, timezone.now() + dt.timedelta(hours=8))
    link = services.live_link(case)
    assert link is not None and services.url_for(link) in text
    assert "ログインは不要です" in text
    settings.PROGRESS_LINK_IN_RECEIPT = False
    other = CaseFactory(assignee=team.agent, team=team)
    assert "/status/" not in acknowledgement_text(other, timezone.now())


def test_replies_written_by_staff_in_the_timeline_are_verbatim_and_escaped(client, case, team):
    InteractionFactory(case=case, kind=InteractionKind.OUTBOUND, author=team.agent, body="<b>太字</b> ご確認ください")
    body = client.get(path_of(services.do_get_link(case, actor=team.agent))).content.decode()
    assert "&lt;b&gt;太字&lt;/b&gt; ご確認ください" in body


def test_the_shop_name_is_the_mailboxs_or_the_setting(client, case, team, settings):
    from madoguchi.mail.models import Mailbox

    path = path_of(services.do_get_link(case, actor=team.agent))
    settings.PROGRESS_SHOP_NAME = "こもれび堂"
    assert "こもれび堂" in client.get(path).content.decode()
    Mailbox.objects.create(name="サポート", address="support@komorebi.example.jp", shop_name="器のこもれび堂 オンラインショップ")
    assert "器のこもれび堂 オンラインショップ" in client.get(path).content.decode()


def test_erasing_the_customer_closes_their_status_links(client, case, team):
    from madoguchi.privacy.services import do_erase_customer

    link = services.do_get_link(case, actor=team.agent)
    do_erase_customer(case.customer)
    assert client.get(path_of(link)).status_code == 404


def test_the_form_receipt_and_the_after_hours_answer_by_mail_carry_the_link_too(team):
    from madoguchi.cases.models import Channel
    from madoguchi.chat.public import receipt_text
    from madoguchi.knowledge.afterhours import compose

    form_case = CaseFactory(assignee=team.agent, team=team, channel=Channel.FORM)
    text = receipt_text(form_case, "お問い合わせ")
    assert services.url_for(services.live_link(form_case)) in text
    assert text.endswith("お心当たりのない場合は、このメールを破棄してください。")
    mail_case = CaseFactory(assignee=team.agent, team=team, channel=Channel.EMAIL)
    answer = compose(mail_case, timezone.now() + dt.timedelta(hours=12), [], "token")
    assert services.url_for(services.live_link(mail_case)) in answer
    line_case = CaseFactory(assignee=team.agent, team=team, channel=Channel.LINE)
    assert "/status/" not in compose(line_case, timezone.now(), [], "token")


def test_a_merged_cases_link_shows_the_case_it_became_and_its_notices_move_along(client, case, team):
    from madoguchi.progress.models import LateNotice

    target = CaseFactory(customer=case.customer, assignee=team.agent, team=team, status=Status.OPEN)
    promise = case_services.do_add_commitment(case, actor=team.agent, description="交換品を発送します",
                                              due_at=timezone.now() + dt.timedelta(days=1))
    notice = LateNotice.objects.create(commitment=promise, case=case, body="お知らせ")
    link = services.do_get_link(case, actor=team.agent)
    case_services.do_merge_cases(case, target, actor=team.agent)
    body = client.get(path_of(link)).content.decode()
    assert target.number in body and "担当者が対応しております。" in body and "交換品を発送します" in body
    notice.refresh_from_db()
    assert notice.case_id == target.pk
