"""The shop's X account against a local fake X API v2 (madoguchi.testing.fake_x), through the
real tweepy client: mentions and DMs fetched (since_id, pagination, rate limits), filed on cases,
and replies posted publicly or by DM with the length and personal-data checks."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest
from django.utils import timezone

from madoguchi.cases.models import Case, Channel, InteractionKind, Status
from madoguchi.cases.services import do_create_case, do_send_reply, other_category
from madoguchi.customers.models import Customer, Identity, IdentityKind
from madoguchi.testing.factories import UserFactory
from madoguchi.testing.fake_x import (
    ACCOUNT_ID,
    BEARER,
    CREDENTIALS,
    Answer,
    FakeX,
    rate_limited,
    user,
)
from madoguchi.x_account import checks, ingest, outbound
from madoguchi.x_account.models import (
    OutboundState,
    Route,
    Stream,
    XCursor,
    XOutbound,
    XRawItem,
    XUser,
)
from madoguchi.x_account.tasks import x_fetch_job

pytestmark = pytest.mark.django_db
HANAKO = user("1111111111111111111", "hanako_tea", "山田 花子")
KENTA = user("2222222222222222222", "kenta_s", "鈴木 健太")


@pytest.fixture
def fake(settings: Any, shop_open: None) -> Any:
    """The fake X API, the desk pointed at it with OAuth 1.0a user keys; the shop open, so no
    after-hours answer joins."""
    with FakeX() as server:
        for name, value in CREDENTIALS.items():
            setattr(settings, name.removeprefix("MADOGUCHI_"), value)
        settings.X_BEARER_TOKEN = ""
        settings.X_USER_ID = ""
        settings.X_API_BASE = server.url
        yield server


def fetch(capture: Any) -> int:
    with capture(execute=True):
        stored, _wait = ingest.fetch()
    return stored


# --- fetching --------------------------------------------------------------------------------------

def test_a_mention_becomes_a_case_of_the_authors_customer(fake, django_capture_on_commit_callbacks):
    post = fake.mention(HANAKO, "@utsuwaya_shop 注文したマグカップが割れて届きました。どうすればいいですか？")
    assert fetch(django_capture_on_commit_callbacks) == 1
    case = Case.objects.get()
    assert case.channel == Channel.X and case.customer.name == "山田 花子"
    assert case.complaint == post["text"]
    assert Identity.objects.get(kind=IdentityKind.X).value == "hanako_tea"
    assert XUser.objects.get().user_id == HANAKO["id"]
    raw = XRawItem.objects.get()
    assert raw.item_id == post["id"] and raw.interaction_id == case.interactions.get().pk
    assert json.loads(raw.raw)["author"]["username"] == "hanako_tea"  # stored as X sent it, with includes.users
    [call] = fake.calls(f"/2/users/{ACCOUNT_ID}/mentions")
    assert call["headers"]["Authorization"].startswith("OAuth ")  # user context, signature checked by the fake
    assert call["query"]["expansions"] == "author_id" and "since_id" not in call["query"]
    assert "start_time" in call["query"]  # the first fetch reads back a day, not the whole history


def test_the_next_fetch_asks_only_for_newer_mentions_with_since_id(fake, django_capture_on_commit_callbacks):
    first = fake.mention(HANAKO, "@utsuwaya_shop 届いたお皿が欠けていました")
    fetch(django_capture_on_commit_callbacks)
    assert XCursor.objects.get(stream=Stream.MENTIONS).since_id == first["id"]
    assert fetch(django_capture_on_commit_callbacks) == 0
    second = fake.mention(HANAKO, "@utsuwaya_shop 写真も送ります")
    assert fetch(django_capture_on_commit_callbacks) == 1
    calls = fake.calls(f"/2/users/{ACCOUNT_ID}/mentions")
    assert [c["query"].get("since_id") for c in calls] == [None, first["id"], first["id"]]
    assert XCursor.objects.get(stream=Stream.MENTIONS).since_id == second["id"]
    case = Case.objects.get()  # the second joined the open case
    assert list(case.interactions.order_by("occurred_at").values_list("body", flat=True)) == [first["text"], second["text"]]


def test_mentions_over_several_pages_are_all_stored_and_since_id_is_the_newest(fake, django_capture_on_commit_callbacks):
    fake.page_size = 2
    now = timezone.now()
    posts = [fake.mention(user(str(3000 + n), f"user{n}", f"お客様{n}"), f"@utsuwaya_shop 問い合わせ{n}",
                          moment=now - dt.timedelta(minutes=10 - n)) for n in range(5)]
    assert fetch(django_capture_on_commit_callbacks) == 5
    calls = fake.calls(f"/2/users/{ACCOUNT_ID}/mentions")
    assert [c["query"].get("pagination_token") for c in calls] == [None, "p2", "p4"]
    cursor = XCursor.objects.get(stream=Stream.MENTIONS)
    assert cursor.since_id == posts[-1]["id"] and cursor.next_token == "" and cursor.walk_newest_id == ""
    assert Case.objects.count() == 5


def test_a_rate_limit_in_the_middle_of_a_walk_resumes_it_after_the_reset_without_sleeping(fake, django_capture_on_commit_callbacks):
    fake.page_size = 2
    now = timezone.now()
    posts = [fake.mention(user(str(4000 + n), f"u{n}", f"客{n}"), f"@utsuwaya_shop 件{n}",
                          moment=now - dt.timedelta(minutes=10 - n)) for n in range(4)]
    fake.answers["mentions"] = [None, rate_limited(30)]  # the first page, then X's 429
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        stored, wait_until = ingest.fetch()
    assert stored == 2 and time.monotonic() - started < 10  # nothing slept until the reset
    cursor = XCursor.objects.get(stream=Stream.MENTIONS)
    assert cursor.next_token == "p2" and cursor.walk_newest_id == posts[-1]["id"] and cursor.since_id == ""
    assert wait_until is not None and cursor.wait_until == wait_until
    assert dt.timedelta(seconds=25) < wait_until - timezone.now() <= dt.timedelta(seconds=31)
    assert "429" in cursor.last_error
    # Before the reset the stream is skipped: no request.
    calls = len(fake.calls(f"/2/users/{ACCOUNT_ID}/mentions"))
    with django_capture_on_commit_callbacks(execute=True):
        assert ingest.fetch() == (0, wait_until)
    assert len(fake.calls(f"/2/users/{ACCOUNT_ID}/mentions")) == calls
    # After it, the walk resumes at its next_token and ends with since_id the newest of its first page.
    with django_capture_on_commit_callbacks(execute=True):
        stored, wait = ingest.fetch(now=wait_until + dt.timedelta(seconds=1))
    assert stored == 2 and wait is None
    first, resumed = fake.calls(f"/2/users/{ACCOUNT_ID}/mentions")[0], fake.calls(f"/2/users/{ACCOUNT_ID}/mentions")[-1]
    assert resumed["query"]["pagination_token"] == "p2"
    assert resumed["query"]["start_time"] == first["query"]["start_time"]  # the same query, its next page
    cursor.refresh_from_db()
    assert cursor.since_id == posts[-1]["id"] and cursor.next_token == "" and cursor.last_error == ""
    assert XRawItem.objects.count() == 4 and Case.objects.count() == 4


def test_the_job_schedules_a_fetch_for_the_reset_instead_of_waiting(fake, django_capture_on_commit_callbacks):
    from huey.contrib.djhuey import HUEY

    HUEY.flush()
    fake.mention(HANAKO, "@utsuwaya_shop 返品したいです")
    fake.answers["mentions"] = [rate_limited(40)]
    started = time.monotonic()
    assert "rate limited" in x_fetch_job.call_local()
    assert time.monotonic() - started < 10
    [scheduled] = [task for task in HUEY.scheduled() if task.name.endswith("x_fetch_task")]
    eta = scheduled.eta.replace(tzinfo=dt.UTC)  # Huey keeps etas in naive UTC
    assert dt.timedelta(seconds=35) < eta - timezone.now() <= dt.timedelta(seconds=41)
    assert x_fetch_job.call_local() == "not due"  # the schedule is kept meanwhile
    HUEY.flush()


def test_while_mentions_wait_for_their_reset_dms_keep_the_set_interval(fake, django_capture_on_commit_callbacks):
    start = timezone.now()
    fake.answers["mentions"] = [rate_limited(3600)]
    with django_capture_on_commit_callbacks(execute=True):
        ingest.fetch(now=start)
        assert ingest.due(start + dt.timedelta(minutes=5))
        ingest.fetch(now=start + dt.timedelta(minutes=5))  # the mentions still wait; the DMs are read
    assert len(fake.calls("/2/dm_events")) == 2 and len(fake.calls(f"/2/users/{ACCOUNT_ID}/mentions")) == 1
    assert not ingest.due(start + dt.timedelta(minutes=6))  # a minute after the DMs: not yet
    assert ingest.due(start + dt.timedelta(minutes=10))


def test_the_last_request_of_a_window_waits_for_the_reset_without_a_429(fake, django_capture_on_commit_callbacks):
    fake.mention(HANAKO, "@utsuwaya_shop 在庫はありますか")
    reset = int(time.time() + 600)
    fake.answers["mentions"] = [Answer(200, {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)})]
    with django_capture_on_commit_callbacks(execute=True):
        stored, wait = ingest.fetch()
    assert stored == 1 and wait == dt.datetime.fromtimestamp(reset, tz=dt.UTC)
    assert XCursor.objects.get(stream=Stream.MENTIONS).requests_left == 0


def test_a_dm_becomes_a_case_and_the_shops_own_dms_are_not_filed(fake, django_capture_on_commit_callbacks):
    fake.dm(KENTA, "注文番号KM-100123の件です。住所を間違えて入力してしまいました。")
    assert fetch(django_capture_on_commit_callbacks) == 1
    case = Case.objects.get()
    assert case.subject.startswith("X DM: 注文番号KM-100123") and case.customer.name == "鈴木 健太"
    [call] = fake.calls("/2/dm_events")
    assert call["query"]["event_types"] == "MessageCreate" and call["query"]["expansions"] == "sender_id"
    with django_capture_on_commit_callbacks(execute=True):
        do_send_reply(case, actor=UserFactory(), body="ご連絡ありがとうございます。正しいご住所をDMでお知らせください。")
    assert len(fake.sent_dms) == 1
    assert fetch(django_capture_on_commit_callbacks) == 0  # the shop's own DM is not the customer's
    assert case.interactions.filter(kind=InteractionKind.INBOUND).count() == 1


def test_dm_pages_are_read_back_only_to_the_last_dm_filed(fake, django_capture_on_commit_callbacks):
    fake.page_size = 2
    now = timezone.now()
    old = [fake.dm(KENTA, f"古いメッセージ{n}", moment=now - dt.timedelta(minutes=30 - n)) for n in range(3)]
    assert fetch(django_capture_on_commit_callbacks) == 3
    assert XCursor.objects.get(stream=Stream.DMS).since_id == old[-1]["id"]
    new = [fake.dm(HANAKO, f"新しいメッセージ{n}", moment=now - dt.timedelta(minutes=5 - n)) for n in range(3)]
    fake.requests.clear()
    assert fetch(django_capture_on_commit_callbacks) == 3
    # Two pages: the second holds an old DM, so the walk stops there (not the fifth and sixth DMs).
    assert [c["query"].get("pagination_token") for c in fake.calls("/2/dm_events")] == [None, "p2"]
    assert XCursor.objects.get(stream=Stream.DMS).since_id == new[-1]["id"]
    assert XRawItem.objects.filter(kind="dm").count() == 6


def test_a_dm_rate_limit_does_not_stop_the_mentions(fake, django_capture_on_commit_callbacks):
    fake.mention(HANAKO, "@utsuwaya_shop 箱がつぶれていました")
    fake.dm(KENTA, "返金はいつになりますか")
    fake.answers["dm_events"] = [rate_limited(60)]
    stored = fetch(django_capture_on_commit_callbacks)
    assert stored == 1
    assert XCursor.objects.get(stream=Stream.DMS).wait_until is not None
    assert XCursor.objects.get(stream=Stream.MENTIONS).last_error == ""


def test_an_x_handle_typed_on_the_intake_form_is_the_same_customer(fake, django_capture_on_commit_callbacks):
    customer = Customer.objects.create(name="山田 花子（電話で受付）")
    Identity.objects.create(customer=customer, kind=IdentityKind.X, value="hanako_tea")
    fake.mention(HANAKO, "@utsuwaya_shop 先ほどお電話した件です")
    fetch(django_capture_on_commit_callbacks)
    assert Case.objects.get().customer_id == customer.pk
    assert XUser.objects.get().customer_id == customer.pk


def test_a_changed_handle_stays_the_same_customer_and_joins_the_record(fake, django_capture_on_commit_callbacks):
    fake.mention(HANAKO, "@utsuwaya_shop 一件目")
    fetch(django_capture_on_commit_callbacks)
    fake.mention({**HANAKO, "username": "hanako_new"}, "@utsuwaya_shop 名前を変えました")
    fetch(django_capture_on_commit_callbacks)
    assert Customer.objects.count() == 1 and Case.objects.get().interactions.count() == 2
    assert set(Identity.objects.filter(kind=IdentityKind.X).values_list("value", flat=True)) == {"hanako_tea", "hanako_new"}


def test_a_mention_after_the_case_was_closed_opens_a_new_one(fake, django_capture_on_commit_callbacks):
    fake.mention(HANAKO, "@utsuwaya_shop 一件目")
    fetch(django_capture_on_commit_callbacks)
    Case.objects.update(status=Status.CLOSED)
    fake.mention(HANAKO, "@utsuwaya_shop 別の件です")
    fetch(django_capture_on_commit_callbacks)
    assert Case.objects.count() == 2


def test_with_an_oauth2_user_token_the_account_is_asked_once(fake, settings, django_capture_on_commit_callbacks):
    settings.X_CONSUMER_KEY = ""
    settings.X_BEARER_TOKEN = BEARER
    fake.mention(HANAKO, "@utsuwaya_shop こんにちは")
    fetch(django_capture_on_commit_callbacks)
    fetch(django_capture_on_commit_callbacks)
    assert len(fake.calls("/2/users/me")) == 1
    assert fake.calls(f"/2/users/{ACCOUNT_ID}/mentions")[0]["headers"]["Authorization"] == f"Bearer {BEARER}"
    assert Case.objects.count() == 1


def test_without_credentials_nothing_is_fetched(fake, settings):
    settings.X_CONSUMER_KEY = settings.X_BEARER_TOKEN = ""
    assert x_fetch_job.call_local() == "not configured"
    assert not fake.requests


def test_wrong_credentials_are_kept_as_the_error_not_a_crash(fake, settings, django_capture_on_commit_callbacks):
    settings.X_CONSUMER_SECRET = "another-secret"
    fake.mention(HANAKO, "@utsuwaya_shop こんにちは")
    with pytest.raises(ingest.FetchError, match="401"):  # the job's run log shows it to the admins
        fetch(django_capture_on_commit_callbacks)
    assert "401" in XCursor.objects.get(stream=Stream.MENTIONS).last_error
    assert "401" in XCursor.objects.get(stream=Stream.DMS).last_error  # the other stream was tried too
    assert not Case.objects.exists()


# --- replies ---------------------------------------------------------------------------------------

def mention_case(fake: FakeX, capture: Any, text: str = "@utsuwaya_shop 届いた商品が壊れていました") -> Case:
    fake.mention(HANAKO, text)
    fetch(capture)
    return Case.objects.get()


def test_a_reply_on_a_mention_is_a_public_reply_to_the_post(fake, django_capture_on_commit_callbacks):
    case = mention_case(fake, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        interaction = do_send_reply(case, actor=UserFactory(), body="ご不便をおかけし申し訳ございません。詳しくはDMでお伺いします。")
    row = XOutbound.objects.get(interaction=interaction)
    assert row.state == OutboundState.SENT and row.route == Route.PUBLIC
    [posted] = fake.posted
    assert posted["text"] == "ご不便をおかけし申し訳ございません。詳しくはDMでお伺いします。"
    assert posted["reply"]["in_reply_to_tweet_id"] == XRawItem.objects.get().item_id
    assert row.posted_id == posted["id"]


def test_a_public_reply_from_the_form_naming_a_phone_number_is_stopped_in_japanese(client, fake, django_capture_on_commit_callbacks):
    case = mention_case(fake, django_capture_on_commit_callbacks)
    client.force_login(UserFactory())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/cases/{case.pk}/reply/", {
            "re-body": "ご迷惑をおかけしました。担当の佐藤まで 03-1234-5678 にお電話ください。", "re-route": "public"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "公開リプライに個人情報（電話番号）が含まれているため、送信を止めました" in page
    assert "「DMで送る」を選んでください" in page
    assert "03-1234-5678 にお電話ください" in page  # the agent's words are kept in the form
    assert not fake.posted and not XOutbound.objects.exists()
    assert case.interactions.filter(kind=InteractionKind.OUTBOUND).count() == 0  # nothing recorded
    case.refresh_from_db()
    assert case.assignee_id is None  # the refused reply did not take the case
    assert 'data-testid="assignee">未割り当て<' in page  # nor does the page say so
    assert f'name="version" value="{case.version}"' in page  # the page's forms carry the stored version


def test_the_same_words_by_dm_go_out(client, fake, django_capture_on_commit_callbacks):
    case = mention_case(fake, django_capture_on_commit_callbacks)
    client.force_login(UserFactory())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/cases/{case.pk}/reply/", {
            "re-body": "担当の佐藤まで 03-1234-5678 にお電話ください。", "re-route": "dm"})
    assert response.status_code == 302
    [sent] = fake.sent_dms
    assert sent["to"] == HANAKO["id"] and sent["text"] == "担当の佐藤まで 03-1234-5678 にお電話ください。"
    assert not fake.posted
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="x-delivery"' in page and "送信済み" in page and "送信はされません" not in page


def test_a_long_public_reply_is_held_until_the_agent_confirms(client, fake, django_capture_on_commit_callbacks):
    case = mention_case(fake, django_capture_on_commit_callbacks)
    client.force_login(UserFactory())
    long_reply = "このたびはご不便をおかけし、誠に申し訳ございません。" * 6  # 156 full-width characters
    assert checks.weight(long_reply) == 312
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/cases/{case.pk}/reply/", {"re-body": long_reply, "re-route": "public"})
    assert response.status_code == 400
    assert "全角140文字（半角280文字）を超えています（全角換算で156文字）" in response.content.decode()
    assert not fake.posted
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/cases/{case.pk}/reply/", {"re-body": long_reply, "re-route": "public",
                                                             "re-route_confirmed": "on"})
    assert response.status_code == 302 and len(fake.posted) == 1


def test_a_public_reply_with_personal_data_from_elsewhere_is_held_with_a_dm_button(client, fake, django_capture_on_commit_callbacks):
    case = mention_case(fake, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        interaction = do_send_reply(case, actor=UserFactory(), body="〒150-0041 東京都渋谷区神南1-2-3 宛にお送りします。")
    row = XOutbound.objects.get(interaction=interaction)
    assert row.state == OutboundState.HELD and "住所・郵便番号" in row.last_error
    assert not fake.posted
    client.force_login(UserFactory())
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="x-send-dm"' in page
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/x/outbound/{row.pk}/dm/").status_code == 302
    row.refresh_from_db()
    assert row.state == OutboundState.SENT and row.route == Route.DM
    assert len(fake.sent_dms) == 1 and not fake.posted


def test_a_reply_on_a_dm_case_goes_by_dm(fake, django_capture_on_commit_callbacks):
    fake.dm(KENTA, "返品の方法を教えてください")
    fetch(django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        interaction = do_send_reply(Case.objects.get(), actor=UserFactory(), body="返品の手順をご案内します。")
    assert XOutbound.objects.get(interaction=interaction).route == Route.DM
    assert fake.sent_dms[0]["to"] == KENTA["id"]


def test_a_case_without_a_post_cannot_be_answered_publicly(client, fake, django_capture_on_commit_callbacks):
    fake.dm(KENTA, "返品の方法を教えてください")
    fetch(django_capture_on_commit_callbacks)
    client.force_login(UserFactory())
    response = client.post(f"/cases/{Case.objects.get().pk}/reply/", {"re-body": "ご案内します。", "re-route": "public"})
    assert response.status_code == 400
    assert "公開の投稿がないため、公開リプライはできません" in response.content.decode()


def test_429_on_posting_waits_for_the_reset_then_posts_once(fake, django_capture_on_commit_callbacks):
    case = mention_case(fake, django_capture_on_commit_callbacks)
    fake.answers["tweets"] = [rate_limited(20)]
    with django_capture_on_commit_callbacks(execute=True):
        interaction = do_send_reply(case, actor=UserFactory(), body="確認いたします。")
    row = XOutbound.objects.get(interaction=interaction)
    assert row.state == OutboundState.PENDING and "秒後に再送します" in row.last_error
    assert dt.timedelta(seconds=15) < row.next_attempt_at - timezone.now() <= dt.timedelta(seconds=21)
    assert outbound.send(row.pk) is None  # not before the reset
    assert outbound.send_due(now=timezone.now() + dt.timedelta(seconds=22)) == 1
    assert len(fake.posted) == 1 and len(fake.calls("/2/tweets")) == 2


def test_a_500_after_x_posted_the_reply_is_not_posted_twice(fake, django_capture_on_commit_callbacks):
    case = mention_case(fake, django_capture_on_commit_callbacks)
    fake.answers["tweets"] = [Answer(503, deliver=True)]  # posted, but the answer was an error
    with django_capture_on_commit_callbacks(execute=True):
        interaction = do_send_reply(case, actor=UserFactory(), body="ただいま確認しております。")
    row = XOutbound.objects.get(interaction=interaction)
    assert row.state == OutboundState.PENDING and row.uncertain_since is not None
    row = outbound.send(row.pk, now=row.next_attempt_at + dt.timedelta(seconds=1))
    assert row.state == OutboundState.SENT and "すでに投稿されていました" in row.last_error
    assert len(fake.posted) == 1


def test_a_dm_whose_answer_was_lost_is_found_in_the_conversation_not_sent_again(fake, django_capture_on_commit_callbacks):
    fake.dm(KENTA, "返金はいつですか")
    fetch(django_capture_on_commit_callbacks)
    fake.answers["dm_send"] = [Answer(500, deliver=True)]
    with django_capture_on_commit_callbacks(execute=True):
        interaction = do_send_reply(Case.objects.get(), actor=UserFactory(), body="本日返金の手続きをいたしました。")
    row = XOutbound.objects.get(interaction=interaction)
    assert row.state == OutboundState.PENDING
    row = outbound.send(row.pk, now=row.next_attempt_at + dt.timedelta(seconds=1))
    assert row.state == OutboundState.SENT and row.posted_id == fake.sent_dms[0]["id"]
    assert len(fake.sent_dms) == 1
    assert len(fake.calls(f"/2/dm_conversations/with/{KENTA['id']}/dm_events")) == 1


def test_a_500_then_success_sends_one_dm(fake, django_capture_on_commit_callbacks):
    fake.dm(KENTA, "返金はいつですか")
    fetch(django_capture_on_commit_callbacks)
    fake.answers["dm_send"] = [Answer(500)]
    with django_capture_on_commit_callbacks(execute=True):
        interaction = do_send_reply(Case.objects.get(), actor=UserFactory(), body="本日手続きいたします。")
    row = outbound.send(XOutbound.objects.get(interaction=interaction).pk,
                        now=timezone.now() + dt.timedelta(seconds=31))
    assert row is not None and row.state == OutboundState.SENT and row.attempts == 2
    assert len(fake.sent_dms) == 1


def test_a_4xx_fails_at_once_and_can_be_sent_again_from_the_case_page(client, fake, django_capture_on_commit_callbacks):
    case = mention_case(fake, django_capture_on_commit_callbacks)
    fake.answers["tweets"] = [Answer(403)]
    with django_capture_on_commit_callbacks(execute=True):
        interaction = do_send_reply(case, actor=UserFactory(), body="確認いたします。")
    row = XOutbound.objects.get(interaction=interaction)
    assert row.state == OutboundState.FAILED and "自動では再送しません" in row.last_error
    client.force_login(UserFactory())
    assert "送信できませんでした" in client.get(f"/cases/{case.pk}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/x/outbound/{row.pk}/retry/").status_code == 302
    row.refresh_from_db()
    assert row.state == OutboundState.SENT and len(fake.posted) == 1


def test_automatic_messages_reach_an_x_customer_only_by_dm(fake, django_capture_on_commit_callbacks):
    case = mention_case(fake, django_capture_on_commit_callbacks)
    assert not outbound.reaches_by_x(case)
    fake.dm(HANAKO, "DMでも送ります")
    fetch(django_capture_on_commit_callbacks)
    assert outbound.reaches_by_x(case)


def test_a_case_logged_by_phone_for_an_x_customer_answers_by_dm(fake, django_capture_on_commit_callbacks):
    fake.dm(KENTA, "返金はいつですか")
    fetch(django_capture_on_commit_callbacks)
    customer = Customer.objects.get()
    Case.objects.update(status=Status.CLOSED)
    case = do_create_case(actor=UserFactory(), customer=customer, subject="電話で受付", channel=Channel.X,
                          category=other_category(), complaint="お電話で返金の件")
    assert outbound.route_for(case.pk, customer.pk) == (Route.DM, KENTA["id"], "")


# --- the checks ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,weight", [
    ("", 0),
    ("a" * 280, 280),
    ("あ" * 140, 280),
    ("あ" * 141, 282),
    ("ご不便をおかけし申し訳ございません。", 36),
    ("ＡＢＣ１２３", 12),  # full-width letters and digits count 2
    ("ｱｲｳ", 6),  # half-width katakana too (outside X's light ranges)
    ("詳しくは https://example.jp/faq/returns/very/long/path をご覧ください", 8 + 1 + 23 + 1 + 14),
    ("“Thanks” — café", 15),  # U+201C/U+201D/U+2014 are in X's light ranges
    ("🙇", 2),
])
def test_length_is_counted_as_x_counts_it(text, weight):
    assert checks.weight(text) == weight


@pytest.mark.parametrize("text,kinds", [
    ("ご不便をおかけし申し訳ございません。詳しくはDMでお伺いします。", []),
    ("担当の佐藤まで 03-1234-5678 にお電話ください。", ["電話番号"]),
    ("お手数ですが０９０－１２３４－５６７８までご連絡ください", ["電話番号"]),
    ("+81 90 1234 5678 からお電話いたします", ["電話番号"]),
    ("フリーダイヤル0120-123-456へどうぞ", ["電話番号"]),
    ("ご注文番号 KM-100123 を確認いたしました", ["注文番号・伝票番号"]),
    ("ご注文#1001の発送が遅れております", ["注文番号・伝票番号"]),
    ("ヤマト運輸の伝票番号 4412-3456-7890 でお調べいただけます", ["注文番号・伝票番号"]),
    ("hanako.yamada@example.co.jp 宛にメールをお送りしました", ["メールアドレス"]),
    ("〒150-0041 にお届けします", ["住所・郵便番号"]),
    ("東京都渋谷区神南1-2-3 宛に再送いたします", ["住所・郵便番号"]),
    ("大阪市北区梅田3丁目の店舗でお受け取りいただけます", ["住所・郵便番号"]),
    ("12月7日 10:30 に発送し、3日後にお届けの予定です", []),
    ("送料500円を返金いたします。2〜3営業日お待ちください", []),
    ("詳しくは https://example.jp/help/20261207 をご覧ください", []),
])
def test_personal_data_in_a_public_reply_is_found(text, kinds):
    assert checks.personal_data(text) == kinds


def test_the_refusal_names_what_was_found_and_suggests_a_dm():
    message = checks.refusal("山田様、090-1234-5678 にお電話します。ご注文番号 KM-100123 の件です。")
    assert "電話番号、注文番号・伝票番号" in message and "DMで送る" in message
    assert checks.refusal("詳しくはDMでお伺いします。") == ""


def test_serve_help_names_the_x_settings_and_never_echoes_them(monkeypatch):
    from madoguchi.cli import settings_help

    for name in CREDENTIALS:
        monkeypatch.setenv(name, "very-secret-value")
    shown = settings_help()
    assert "MADOGUCHI_X_CONSUMER_KEY" in shown and "MADOGUCHI_X_BEARER_TOKEN" in shown
    assert "very-secret" not in shown and "いまは設定済み" in shown


# --- personal data (APPI) ------------------------------------------------------------------------

def test_a_customers_x_data_is_exported_and_erased(fake, django_capture_on_commit_callbacks):
    from madoguchi.privacy.services import ERASED, do_erase_customer, export_customer

    case = mention_case(fake, django_capture_on_commit_callbacks, "@utsuwaya_shop 山田花子です。090-1111-2222 に電話ください")
    with django_capture_on_commit_callbacks(execute=True):
        do_send_reply(case, actor=UserFactory(), body="山田様、詳しくはDMでお伺いします。")
    customer = case.customer
    exported = export_customer(customer)
    assert exported["x_users"][0]["username"] == "hanako_tea"
    assert "090-1111-2222" in exported["x_received"][0]["raw"]
    assert exported["cases"][0]["x_replies"][0]["body"] == "山田様、詳しくはDMでお伺いします。"
    do_erase_customer(customer)
    assert not XUser.objects.exists()
    assert XRawItem.objects.get().raw == "{}"
    assert XOutbound.objects.get().body == ERASED
