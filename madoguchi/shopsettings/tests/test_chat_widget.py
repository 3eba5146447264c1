"""チャットウィジェット on the desk: the environment's values until saved; once saved, the real
widget socket (the ASGI application) accepts the sites set here, offers chat only in the hours
set here and greets with the greeting set here."""

from __future__ import annotations

import datetime as dt

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone

from madoguchi.accounts.models import SettingsChange
from madoguchi.chat import services
from madoguchi.chat.models import WidgetSettings
from madoguchi.chat.tests.helpers import receive_until, widget

GOOD = {"allowed_origins": "https://komorebi.example.jp\nhttps://shop.example.jp:8443/", "follow_business_hours": "",
        "opens": "", "closes": "", "greeting": "こんにちは。こもれび堂です。ご用件をどうぞ。"}


@pytest.fixture(autouse=True)
def _env(settings):
    settings.MADOGUCHI_CHAT_ALLOWED_ORIGINS = ["http://env-shop.example.jp"]
    settings.MADOGUCHI_CHAT_BUSINESS_HOURS = False
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "madoguchi.chat.layers.InMemoryLayer"}}


async def _greeting_and_origin(origin: str) -> tuple[bool, str | None]:
    comm = widget(origin=origin)
    connected, _code = await comm.connect()
    if not connected:
        return False, None
    await comm.send_json_to({"type": "hello"})
    welcome = await receive_until(comm, "welcome")
    await comm.disconnect()
    return True, welcome.get("greeting")


@pytest.mark.django_db(transaction=True)
def test_saved_origins_and_greeting_are_what_the_widget_socket_uses(admin_client):
    page = admin_client.get("/settings/chat/").content.decode()
    assert "http://env-shop.example.jp" in page  # the environment's value, until saved
    assert async_to_sync(_greeting_and_origin)("http://env-shop.example.jp") == (True, "")
    assert async_to_sync(_greeting_and_origin)("https://komorebi.example.jp") == (False, None)

    assert admin_client.post("/settings/chat/", GOOD).status_code == 302
    row = WidgetSettings.objects.get(pk=1)
    assert row.allowed_origins == "https://komorebi.example.jp\nhttps://shop.example.jp:8443"
    assert async_to_sync(_greeting_and_origin)("https://komorebi.example.jp") == (True, GOOD["greeting"])
    assert async_to_sync(_greeting_and_origin)("https://shop.example.jp:8443")[0] is True
    assert async_to_sync(_greeting_and_origin)("http://env-shop.example.jp") == (False, None)  # no longer allowed
    change = SettingsChange.objects.get(target="チャットウィジェットの設定")
    fields = {c["field"]: (c["old"], c["new"]) for c in change.changes}
    assert fields["allowed_origins"][0] == "http://env-shop.example.jp"
    assert fields["greeting"] == ("", GOOD["greeting"])


@pytest.mark.django_db
def test_the_chat_hours_close_the_chat_outside_them(admin_client, settings):
    assert admin_client.post("/settings/chat/", {**GOOD, "opens": "10:00", "closes": "17:00"}).status_code == 302
    day = timezone.localtime().replace(year=2026, month=12, day=7)
    assert services.within_business_hours(day.replace(hour=11, minute=0)) is True
    assert services.within_business_hours(day.replace(hour=17, minute=30)) is False
    assert services.within_business_hours(day.replace(hour=9, minute=59)) is False
    # Following the business hours too: a Sunday (closed by default) is closed whatever the window.
    assert admin_client.post("/settings/chat/", {**GOOD, "opens": "10:00", "closes": "17:00",
                                                 "follow_business_hours": "on"}).status_code == 302
    sunday = day - dt.timedelta(days=1)
    assert services.within_business_hours(sunday.replace(hour=11)) is False


@pytest.mark.django_db
@pytest.mark.parametrize(("change", "message"), [
    ({"allowed_origins": "https://shop.example.jp/items/1"}, "「https://shop.example.jp/items/1」はオリジンではありません。"),
    ({"allowed_origins": "shop.example.jp"}, "「shop.example.jp」はオリジンではありません。"),
    ({"allowed_origins": "https://shop.example.jp:99999"}, "「https://shop.example.jp:99999」のポート番号が正しくありません。"),
    ({"opens": "10:00"}, "チャットの時間は、開始と終了の両方を入れるか、両方を空欄にしてください。"),
    ({"opens": "18:00", "closes": "09:00"}, "終了時刻は開始時刻より後にしてください。"),
    ({"greeting": "あ" * 501}, "この値は 500 文字以下でなければなりません"),
])
def test_bad_input_is_refused_in_japanese_and_nothing_is_saved(admin_client, change, message):
    response = admin_client.post("/settings/chat/", {**GOOD, **change})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not WidgetSettings.objects.exists() and not SettingsChange.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["lead_client", "agent_client"])
def test_leads_and_agents_may_not_change_the_widget(request, who):
    client = request.getfixturevalue(who)
    assert client.get("/settings/chat/").status_code == 403
    assert client.post("/settings/chat/", GOOD).status_code == 403
    assert not WidgetSettings.objects.exists()
