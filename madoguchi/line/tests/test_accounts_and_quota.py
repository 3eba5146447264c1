"""More LINE official accounts on /settings/line/ (admins): each with its own webhook address
and secret, its customers answered through it; and the month's message quota LINE reports,
shown to admins. Against the fake LINE API."""

from __future__ import annotations

import time
from typing import Any

import pytest

from madoguchi.accounts.models import Role, SettingsChange
from madoguchi.cases.models import Case
from madoguchi.cases.services import do_send_reply
from madoguchi.line import quota
from madoguchi.line.models import LineAccount, LineOutbound, LineQuota, LineRawEvent, OutboundState
from madoguchi.line.tests.conftest import USER, deliver, text
from madoguchi.testing.factories import UserFactory
from madoguchi.testing.fake_line import TOKEN, event, sign, webhook_body

pytestmark = pytest.mark.django_db
SECOND_SECRET = "0123456789abcdef0123456789abcdef"
SECOND_TOKEN = "second-account-access-token"
OTHER_USER = "U00000000000000000000000000000b02"


@pytest.fixture
def admin_client(client: Any) -> Any:
    client.force_login(UserFactory(role=Role.ADMIN))
    return client


def add_account(client: Any, **fields: str) -> Any:
    data = {"name": "こもれび堂 アウトレット", "active": "on", "channel_secret": SECOND_SECRET, "access_token": SECOND_TOKEN}
    data.update(fields)
    return client.post("/settings/line/", data)


def test_an_admin_adds_an_account_whose_secrets_are_kept_encrypted_and_masked_in_the_audit(admin_client):
    response = add_account(admin_client)
    assert response.status_code == 302
    account = LineAccount.objects.get()
    assert account.channel_secret == SECOND_SECRET and account.access_token == SECOND_TOKEN
    assert SECOND_SECRET not in account.channel_secret_encrypted and SECOND_TOKEN not in account.access_token_encrypted
    change = SettingsChange.objects.get(object_id=str(account.pk))
    assert SECOND_SECRET not in str(change.changes) and SECOND_TOKEN not in str(change.changes)
    page = admin_client.get("/settings/line/").content.decode()
    assert f"/line/webhook/{account.pk}/" in page and "こもれび堂 アウトレット" in page
    assert SECOND_SECRET not in page and SECOND_TOKEN not in page


@pytest.mark.parametrize(("fields", "message"), [
    ({"channel_secret": "not a secret"}, "32文字の英数字"),
    ({"access_token": ""}, "追加するときは入力してください"),
    ({"name": ""}, "このフィールドは必須です"),
])
def test_a_bad_account_gets_a_japanese_message_and_nothing_is_saved(admin_client, fields, message):
    response = add_account(admin_client, **fields)
    assert response.status_code == 400 and message in response.content.decode()
    assert not LineAccount.objects.exists()


def test_editing_keeps_the_secrets_when_left_empty(admin_client):
    add_account(admin_client)
    account = LineAccount.objects.get()
    response = admin_client.post(f"/settings/line/{account.pk}/", {"name": "アウトレット店"})
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.name == "アウトレット店" and not account.active
    assert account.channel_secret == SECOND_SECRET and account.access_token == SECOND_TOKEN


def test_only_admins_see_the_line_settings(client):
    client.force_login(UserFactory(role=Role.LEAD))
    assert client.get("/settings/line/").status_code == 403
    assert client.post("/settings/line/quota/").status_code == 403


def test_a_second_accounts_customer_is_answered_through_that_account(client, fake, django_capture_on_commit_callbacks):
    fake.tokens.add(SECOND_TOKEN)
    fake.profiles[OTHER_USER] = {"displayName": "アウトレットの佐藤様"}
    account = LineAccount(name="アウトレット")
    account.set_secrets(SECOND_SECRET, SECOND_TOKEN)
    account.save()
    body = webhook_body(event("message", OTHER_USER, "A2-1", int(time.time() * 1000) - 120_000,
                              message={"type": "text", "id": "a1", "text": "セール品が届きません"}))
    # signed with the first account's secret: refused at the second's address
    assert client.post(f"/line/webhook/{account.pk}/", data=body, content_type="application/json",
                       HTTP_X_LINE_SIGNATURE=sign(body)).status_code == 401
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/line/webhook/{account.pk}/", data=body, content_type="application/json",
                               HTTP_X_LINE_SIGNATURE=sign(body, SECOND_SECRET))
    assert response.status_code == 200
    assert LineRawEvent.objects.get().account == account
    case = Case.objects.get()
    assert case.customer.name == "アウトレットの佐藤様"
    assert fake.requests[0]["headers"]["Authorization"] == f"Bearer {SECOND_TOKEN}"  # the profile, as that account
    with django_capture_on_commit_callbacks(execute=True):
        do_send_reply(case, actor=UserFactory(), body="確認いたします。")
    [sent] = fake.delivered
    assert sent["path"] == "/v2/bot/message/push" and sent["headers"]["Authorization"] == f"Bearer {SECOND_TOKEN}"
    assert LineOutbound.objects.get().account == account and LineOutbound.objects.get().state == OutboundState.SENT


def test_a_stopped_account_takes_no_webhook(client, fake):
    account = LineAccount(name="閉店したお店", active=False)
    account.set_secrets(SECOND_SECRET, SECOND_TOKEN)
    account.save()
    body = webhook_body(text("X1", "こんにちは"))
    response = client.post(f"/line/webhook/{account.pk}/", data=body, content_type="application/json",
                           HTTP_X_LINE_SIGNATURE=sign(body, SECOND_SECRET))
    assert response.status_code == 503 and not LineRawEvent.objects.exists()
    assert client.post("/line/webhook/999/", data=body, content_type="application/json",
                       HTTP_X_LINE_SIGNATURE=sign(body)).status_code == 503


def test_the_first_accounts_customers_still_go_through_the_environments_token(client, fake, django_capture_on_commit_callbacks):
    fake.tokens.add(SECOND_TOKEN)
    account = LineAccount(name="アウトレット")
    account.set_secrets(SECOND_SECRET, SECOND_TOKEN)
    account.save()
    deliver(client, django_capture_on_commit_callbacks, text("F1", "届きません", seconds_ago=120))
    with django_capture_on_commit_callbacks(execute=True):
        do_send_reply(Case.objects.get(), actor=UserFactory(), body="確認いたします。")
    [sent] = fake.delivered
    assert sent["headers"]["Authorization"] == f"Bearer {TOKEN}" and sent["json"]["to"] == USER


def test_the_monthly_quota_is_shown_to_admins_as_line_reports_it(admin_client, fake):
    fake.tokens.add(SECOND_TOKEN)
    fake.quota, fake.quota_used = {"type": "limited", "value": 5000}, 1234
    add_account(admin_client)
    response = admin_client.post("/settings/line/quota/")
    assert response.status_code == 302
    first, second = LineQuota.objects.get(account=None), LineQuota.objects.get(account__isnull=False)
    assert (first.limit, first.used, first.left, first.share) == (5000, 1234, 3766, 25)
    assert second.used == 1234 and second.error == ""
    page = admin_client.get("/settings/line/").content.decode()
    assert page.count('data-testid="line-quota"') == 2 and "1234 / 5000通（25%、残り3766通）" in page


def test_an_unlimited_plan_and_an_api_error_are_shown_as_such(fake, settings):
    fake.quota = {"type": "none"}
    fake.quota_used = 87
    assert quota.refresh_all() == 1
    row = LineQuota.objects.get()
    assert not row.limited and row.used == 87 and row.left is None
    settings.LINE_CHANNEL_ACCESS_TOKEN = "a-token-line-does-not-know"
    quota.refresh_all()
    row.refresh_from_db()
    assert "取得できませんでした" in row.error and row.used == 87  # the last figures stay


def test_the_hourly_job_fetches_the_quota(fake):
    from madoguchi.line.tasks import line_quota_job

    fake.quota_used = 3
    line_quota_job.call_local()
    assert LineQuota.objects.get().used == 3
