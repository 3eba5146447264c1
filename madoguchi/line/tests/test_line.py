"""The LINE official account against a local fake Messaging API (madoguchi.testing.fake_line):
signatures, every event type, profile and content fetches, reply vs push, retries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from madoguchi.cases.models import Case, Channel, Interaction, InteractionKind, Status
from madoguchi.cases.services import do_send_reply
from madoguchi.customers.models import Identity, IdentityKind
from madoguchi.line import outbound
from madoguchi.line.models import (
    LineAttachment,
    LineOutbound,
    LineRawEvent,
    LineUser,
    OutboundState,
)
from madoguchi.line.tests.conftest import USER, deliver, now_ms, post, text
from madoguchi.testing.factories import UserFactory
from madoguchi.testing.fake_line import SECRET, TOKEN, Answer, FakeLine, event, sign, webhook_body

pytestmark = pytest.mark.django_db


# --- signatures ------------------------------------------------------------------------------

def test_a_valid_signature_is_accepted_and_the_event_stored(client, fake):
    body = webhook_body(text("01JABC", "注文した商品がまだ届きません"))
    response = post(client, body, sign(body))
    assert response.status_code == 200
    assert LineRawEvent.objects.get().webhook_event_id == "01JABC"


@pytest.mark.parametrize("how", ["wrong secret", "tampered body", "missing header", "empty header"])
def test_a_bad_or_missing_signature_is_refused_and_nothing_stored(client, fake, how):
    body = webhook_body(text("01JBAD", "注文した商品がまだ届きません"))
    signature: str | None = {
        "wrong secret": sign(body, "another-channel-secret"),
        "tampered body": sign(body),
        "missing header": None,
        "empty header": "",
    }[how]
    if how == "tampered body":
        body = body.replace("届きません".encode(), "届きました".encode())
    response = post(client, body, signature)
    assert response.status_code == 401
    assert "署名" in response.content.decode()
    assert not LineRawEvent.objects.exists()


def test_the_official_signature_vector_verifies(client, fake, settings):
    """A signature computed outside this code: `printf '%s' BODY | openssl dgst -sha256
    -hmac testsecret -binary | base64`."""
    settings.LINE_CHANNEL_SECRET = "testsecret"
    body = b'{"destination":"U1","events":[]}'
    assert post(client, body, "fk04R+/mpftGJmD9sP4idCYMIzrMD3nZfOnKIbAqqbw=").status_code == 200
    assert post(client, body, "fk04R+/mpftGJmD9sP4idCYMIzrMD3nZfOnKIbAqqbX=").status_code == 401


def test_a_body_that_is_not_a_webhook_gets_a_clear_400(client, fake):
    body = b'{"destination": "U1", "events": "none"}'
    response = post(client, body, sign(body))
    assert response.status_code == 400
    assert "読めませんでした" in response.content.decode()


def test_without_a_channel_secret_the_webhook_says_so(client, fake, settings):
    settings.LINE_CHANNEL_SECRET = ""
    body = webhook_body()
    assert post(client, body, sign(body)).status_code == 503


# --- events --------------------------------------------------------------------------------------

def test_a_text_message_opens_a_line_case_for_the_profiles_customer(client, fake, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks, text("E1", "注文番号1234の商品がまだ届きません"))
    case = Case.objects.get()
    assert case.channel == Channel.LINE
    assert case.customer.name == "山田 花子"
    assert Identity.objects.get(kind=IdentityKind.LINE).value == USER
    line_user = LineUser.objects.get()
    assert line_user.picture_url == "https://profile.line-scdn.net/abc"
    assert list(case.interactions.values_list("kind", "body")) == [(InteractionKind.INBOUND, "注文番号1234の商品がまだ届きません")]
    assert LineRawEvent.objects.get().interaction_id == case.interactions.get().pk
    assert fake.paths("/v2/bot/profile/") == [f"/v2/bot/profile/{USER}"]


def test_a_second_message_joins_the_open_case_and_the_profile_is_not_fetched_again(client, fake, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks, text("E1", "届きません"))
    deliver(client, django_capture_on_commit_callbacks, text("E2", "今日中に連絡をください"))
    case = Case.objects.get()
    assert case.interactions.count() == 2
    assert len(fake.paths("/v2/bot/profile/")) == 1


def test_a_message_after_the_case_was_closed_opens_a_new_one(client, fake, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks, text("E1", "届きません"))
    Case.objects.update(status=Status.CLOSED)
    deliver(client, django_capture_on_commit_callbacks, text("E2", "別の件です"))
    assert Case.objects.count() == 2


def test_a_redelivered_event_is_stored_and_filed_once(client, fake, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks, text("E1", "届きません"))
    deliver(client, django_capture_on_commit_callbacks, text("E1", "届きません", redelivery=True))
    assert LineRawEvent.objects.count() == 1
    assert Interaction.objects.count() == 1


def test_a_user_without_a_profile_gets_a_placeholder_name(client, fake, django_capture_on_commit_callbacks):
    del fake.profiles[USER]
    deliver(client, django_capture_on_commit_callbacks, text("E1", "届きません"))
    assert Case.objects.get().customer.name == "LINEのお客様"


def test_a_sticker_is_shown_as_text_with_its_keywords(client, fake, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks, event("message", USER, "S1", now_ms(), message={
        "type": "sticker", "id": "ms1", "packageId": "446", "stickerId": "1988", "stickerResourceType": "STATIC",
        "keywords": ["悲しい", "泣く"]}))
    assert Interaction.objects.get().body == "［スタンプ］（悲しい、泣く）"


@pytest.mark.parametrize("kind,label", [("image", "画像"), ("video", "動画"), ("audio", "音声")])
def test_media_is_fetched_from_the_content_api_and_kept(client, fake, django_capture_on_commit_callbacks, kind, label):
    ctype = {"image": "image/jpeg", "video": "video/mp4", "audio": "audio/x-m4a"}[kind]
    fake.contents["mm1"] = (b"\xff\xd8\xff\xe0 LINE content bytes", ctype)
    deliver(client, django_capture_on_commit_callbacks, event("message", USER, "M1", now_ms(), message={
        "type": kind, "id": "mm1", "contentProvider": {"type": "line"}}))
    assert Interaction.objects.get().body == f"［{label}］"
    attachment = LineAttachment.objects.get()
    assert attachment.content_type == ctype and attachment.size == len(b"\xff\xd8\xff\xe0 LINE content bytes")
    assert attachment.file.read() == b"\xff\xd8\xff\xe0 LINE content bytes"
    assert "/v2/bot/message/mm1/content" in fake.paths()


def test_a_file_keeps_its_name_and_the_agent_downloads_it(client, fake, django_capture_on_commit_callbacks):
    fake.contents["mf1"] = ("注文番号,金額\n1234,5000\n".encode(), "text/csv")
    deliver(client, django_capture_on_commit_callbacks, event("message", USER, "F1", now_ms(), message={
        "type": "file", "id": "mf1", "fileName": "注文明細.csv", "fileSize": 30}))
    assert Interaction.objects.get().body == "［ファイル］ 注文明細.csv"
    agent = UserFactory()
    client.force_login(agent)
    page = client.get(f"/cases/{Case.objects.get().pk}/").content.decode()
    attachment = LineAttachment.objects.get()
    assert f"/line/attachment/{attachment.pk}/" in page and "注文明細.csv" in page
    download = client.get(f"/line/attachment/{attachment.pk}/")
    assert b"".join(download.streaming_content) == "注文番号,金額\n1234,5000\n".encode()


def test_content_line_no_longer_has_is_noted_not_lost(client, fake, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks, event("message", USER, "X1", now_ms(), message={
        "type": "image", "id": "gone", "contentProvider": {"type": "line"}}))
    attachment = LineAttachment.objects.get()
    assert not attachment.file and "取得できませんでした" in attachment.error
    assert Interaction.objects.get().body == "［画像］"


def test_a_location_and_a_postback_become_entries(client, fake, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks,
            event("message", USER, "L1", now_ms(2), message={
                "type": "location", "id": "ml1", "title": "こもれび堂 本店", "address": "東京都渋谷区1-2-3",
                "latitude": 35.66, "longitude": 139.70}),
            event("postback", USER, "P1", now_ms(1), postback={"data": "action=return&order=1234",
                                                               "params": {"date": "2026-12-10"}}))
    bodies = list(Interaction.objects.order_by("occurred_at").values_list("body", flat=True))
    assert bodies == [
        "［位置情報］こもれび堂 本店\n東京都渋谷区1-2-3\nhttps://www.google.com/maps?q=35.66,139.7",
        "［ボタンを押しました］action=return&order=1234\ndate: 2026-12-10",
    ]


def test_follow_unfollow_are_recorded_on_the_open_case_and_block_is_kept(client, fake, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks, event("follow", USER, "F0", now_ms(3), follow={"isUnblocked": False}))
    assert not Case.objects.exists()  # a new friend is not a complaint: no case for it alone
    assert LineUser.objects.get().blocked_at is None
    deliver(client, django_capture_on_commit_callbacks, text("T1", "届きません", seconds_ago=2))
    deliver(client, django_capture_on_commit_callbacks, event("unfollow", USER, "U1", now_ms(1)))
    assert LineUser.objects.get().blocked_at is not None
    entries = list(Case.objects.get().interactions.order_by("occurred_at").values_list("kind", "body"))
    assert entries[-1] == (InteractionKind.SYSTEM, "お客様がLINE公式アカウントをブロックしました。LINEでの返信は届きません。")
    deliver(client, django_capture_on_commit_callbacks, event("follow", USER, "F2", now_ms(0), follow={"isUnblocked": True}))
    assert LineUser.objects.get().blocked_at is None


def test_an_unsent_message_is_marked_for_agents_and_the_raw_record_stays(client, fake, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks, text("T1", "電話番号は090-1234-5678です", seconds_ago=2))
    deliver(client, django_capture_on_commit_callbacks,
            event("unsend", USER, "UN1", now_ms(1), unsend={"messageId": "mT1"}))
    original = LineRawEvent.objects.get(webhook_event_id="T1")
    assert original.unsent_at is not None
    assert "090-1234-5678" in original.raw  # the raw record stays
    case = Case.objects.get()
    assert case.interactions.filter(kind=InteractionKind.INBOUND).get().body == "電話番号は090-1234-5678です"
    client.force_login(UserFactory())
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "お客様が送信を取り消しました" in page


# --- replies ----------------------------------------------------------------------------------

def reply_on_case(capture: Any, words: str = "ご不便をおかけして申し訳ございません。本日発送いたします。") -> LineOutbound:
    case = Case.objects.get()
    with capture(execute=True):
        interaction = do_send_reply(case, actor=UserFactory(), body=words)
    return LineOutbound.objects.get(interaction=interaction)


def test_a_reply_within_the_tokens_life_uses_the_reply_token(client, fake, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks, text("T1", "届きません"))
    row = reply_on_case(django_capture_on_commit_callbacks)
    assert row.state == OutboundState.SENT and row.method == "reply"
    [sent] = fake.delivered
    assert sent["path"] == "/v2/bot/message/reply"
    assert sent["json"]["replyToken"] == "rt-T1"
    assert sent["json"]["messages"][0]["text"] == "ご不便をおかけして申し訳ございません。本日発送いたします。"
    # The token is spent: the next reply is pushed.
    second = reply_on_case(django_capture_on_commit_callbacks, "追跡番号をお送りします。")
    assert second.method == "push"


def test_a_reply_after_the_token_aged_is_pushed_with_a_retry_key(client, fake, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks, text("T1", "届きません", seconds_ago=120))
    row = reply_on_case(django_capture_on_commit_callbacks)
    assert row.state == OutboundState.SENT and row.method == "push"
    [sent] = fake.delivered
    assert sent["path"] == "/v2/bot/message/push" and sent["json"]["to"] == USER
    assert sent["headers"]["X-Line-Retry-Key"] == str(row.retry_key)


def test_a_refused_reply_token_falls_back_to_push(client, fake, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks, text("T1", "届きません"))
    fake.reply_answers.append(Answer(400))
    row = reply_on_case(django_capture_on_commit_callbacks)
    assert row.state == OutboundState.SENT and row.method == "push"
    assert [entry["path"] for entry in fake.delivered] == ["/v2/bot/message/push"]


def test_429_waits_for_retry_after_then_one_message_is_delivered(client, fake, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks, text("T1", "届きません", seconds_ago=120))
    fake.push_answers.append(Answer(429, {"Retry-After": "17"}))
    row = reply_on_case(django_capture_on_commit_callbacks)
    assert row.state == OutboundState.PENDING and "17秒後に再送" in row.last_error
    assert dt.timedelta(seconds=15) < row.next_attempt_at - timezone.now() <= dt.timedelta(seconds=17)
    assert outbound.send(row.pk) is None  # not before Retry-After
    later = timezone.now() + dt.timedelta(seconds=18)
    assert outbound.send_due(now=later) == 1
    pushes = [entry for entry in fake.requests if entry["path"] == "/v2/bot/message/push"]
    assert len(pushes) == 2 and len(fake.delivered) == 1
    assert {entry["headers"]["X-Line-Retry-Key"] for entry in pushes} == {str(row.retry_key)}


def test_500_then_success_delivers_once_with_the_same_retry_key(client, fake, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks, text("T1", "届きません", seconds_ago=120))
    fake.push_answers.append(Answer(500))
    row = reply_on_case(django_capture_on_commit_callbacks)
    assert row.state == OutboundState.PENDING and row.attempts == 1
    row = outbound.send(row.pk, now=row.next_attempt_at + dt.timedelta(seconds=1))
    assert row.state == OutboundState.SENT and row.attempts == 2
    pushes = [entry for entry in fake.requests if entry["path"] == "/v2/bot/message/push"]
    assert len(pushes) == 2 and len(fake.delivered) == 1
    assert {entry["headers"]["X-Line-Retry-Key"] for entry in pushes} == {str(row.retry_key)}


def test_a_500_after_line_accepted_the_push_is_not_delivered_twice(client, fake, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks, text("T1", "届きません", seconds_ago=120))
    fake.push_answers.append(Answer(500, deliver=True))  # accepted, but the answer was an error
    row = reply_on_case(django_capture_on_commit_callbacks)
    row = outbound.send(row.pk, now=row.next_attempt_at + dt.timedelta(seconds=1))
    assert row.state == OutboundState.SENT  # LINE answered 409: that key was accepted already
    assert len(fake.delivered) == 1


def test_a_4xx_fails_at_once_and_the_case_page_shows_it(client, fake, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks, text("T1", "届きません", seconds_ago=120))
    fake.push_answers.append(Answer(400))
    row = reply_on_case(django_capture_on_commit_callbacks)
    assert row.state == OutboundState.FAILED and "自動では再送しません" in row.last_error
    client.force_login(UserFactory())
    page = client.get(f"/cases/{row.case_id}/").content.decode()
    assert 'data-testid="line-delivery"' in page and "送信できませんでした" in page
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/line/outbound/{row.pk}/retry/").status_code == 302
    row.refresh_from_db()
    assert row.state == OutboundState.SENT and len(fake.delivered) == 1


def test_the_case_page_shows_a_line_reply_as_sent_not_only_recorded(client, fake, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks, text("T1", "届きません"))
    case = Case.objects.get()
    client.force_login(UserFactory())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/cases/{case.pk}/reply/", {"re-body": "確認いたします。"})
    assert response.status_code == 302, response.content.decode()[-3000:]
    page = client.get(response["Location"]).content.decode()
    assert "送信はされません" not in page
    assert 'data-testid="line-delivery"' in page and "送信済み" in page
    assert fake.delivered[0]["json"]["messages"][0]["text"].startswith("確認いたします。")


# --- automatic messages ------------------------------------------------------------------------

def test_a_line_message_after_hours_gets_the_after_hours_answer_on_line(client, settings, django_capture_on_commit_callbacks):
    """Not the `fake` fixture: the shop keeps its seeded hours, closed on a Sunday night."""
    from madoguchi.knowledge.tests.conftest import jst

    sunday_night = jst(2026, 11, 22, 22, 0)
    with FakeLine() as server:
        server.profiles[USER] = {"displayName": "山田 花子"}
        settings.LINE_CHANNEL_SECRET, settings.LINE_CHANNEL_ACCESS_TOKEN = SECRET, TOKEN
        settings.LINE_API_BASE = settings.LINE_DATA_API_BASE = server.url
        deliver(client, django_capture_on_commit_callbacks, event("message", USER, "N1", int(sunday_night.timestamp() * 1000),
                                                                   message={"type": "text", "id": "n1", "text": "荷物が届きません"}))
        [answer] = server.delivered
    assert answer["path"] == "/v2/bot/message/push"  # the token of a Sunday-night message is long gone
    assert "9時00分以降" in answer["json"]["messages"][0]["text"]
    row = LineOutbound.objects.get()
    assert row.state == OutboundState.SENT and row.interaction.author_id is None
    assert "このメッセージは自動でお送りしています。" in answer["json"]["messages"][0]["text"]


def test_serve_help_names_the_line_settings_and_never_echoes_them(monkeypatch):
    from madoguchi.cli import settings_help

    monkeypatch.setenv("MADOGUCHI_LINE_CHANNEL_SECRET", "very-secret-value")
    monkeypatch.setenv("MADOGUCHI_LINE_CHANNEL_ACCESS_TOKEN", "very-secret-token")
    shown = settings_help()
    assert "MADOGUCHI_LINE_CHANNEL_SECRET" in shown and "/line/webhook/" in shown
    assert "very-secret" not in shown


def test_a_malformed_event_is_filed_as_unknown_not_a_crash(client, fake, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks, event("message", USER, "BAD1", now_ms(), message="壊れた"))
    assert Interaction.objects.get().body == "［不明のメッセージ］"
    assert LineRawEvent.objects.get().processed_at is not None


def test_an_oversized_webhook_is_refused_before_it_is_read(client, fake, settings):
    settings.LINE_MAX_WEBHOOK_BYTES = 100
    body = webhook_body(text("BIG", "長い" * 100))
    assert post(client, body, sign(body)).status_code == 413
    assert not LineRawEvent.objects.exists()
