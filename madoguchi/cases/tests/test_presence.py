"""The case page's presence socket (/ws/cases/<id>/) on the real ASGI application with the
in-memory channel layer: who else views the case, who types, who left, who replied."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import close_old_connections
from django.test import Client

from madoguchi.cases import services
from madoguchi.chat.tests.helpers import receive_until
from madoguchi.testing.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "madoguchi.chat.layers.InMemoryLayer"}}


def case_socket(case_id: int, user=None) -> WebsocketCommunicator:
    from madoguchi.asgi import application

    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if user is not None:
        client = Client()
        client.force_login(user)
        close_old_connections()
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    return WebsocketCommunicator(application, f"/ws/cases/{case_id}/", headers=headers)


def test_viewers_see_each_other_typing_and_leaving():
    case = CaseFactory()
    tanaka = UserFactory(username="tanaka", display_name="田中 健太")
    suzuki = UserFactory(username="suzuki", display_name="鈴木 一郎")

    async def scenario():
        a = case_socket(case.pk, tanaka)
        assert (await a.connect())[0]
        b = case_socket(case.pk, suzuki)
        assert (await b.connect())[0]
        seen_by_a = await receive_until(a, "here")  # B arrived
        seen_by_b = await receive_until(b, "here")  # A answered B directly
        await a.send_json_to({"type": "typing", "on": True})
        typing = await receive_until(b, "typing")
        await a.send_json_to({"type": "ping"})
        heartbeat = await receive_until(b, "here")
        await a.disconnect()
        left = await receive_until(b, "left")
        await b.disconnect()
        return seen_by_a, seen_by_b, typing, heartbeat, left

    seen_by_a, seen_by_b, typing, heartbeat, left = async_to_sync(scenario)()
    assert seen_by_a["name"] == "鈴木 一郎"
    assert seen_by_b["name"] == "田中 健太" and seen_by_b["typing"] is False
    assert typing["name"] == "田中 健太" and typing["on"] is True
    assert heartbeat["typing"] is True  # a page that joins late learns who is typing
    assert left["channel"] == seen_by_b["channel"]


def test_a_reply_sent_is_told_to_the_other_viewers():
    case = CaseFactory()
    tanaka = UserFactory(username="tanaka", display_name="田中 健太")
    suzuki = UserFactory(username="suzuki", display_name="鈴木 一郎")

    async def scenario():
        b = case_socket(case.pk, suzuki)
        assert (await b.connect())[0]
        await database_sync_to_async(services.do_send_reply)(case, actor=tanaka, body="田中です。本日発送いたします。")
        replied = await receive_until(b, "replied")
        await b.disconnect()
        return replied

    replied = async_to_sync(scenario)()
    assert replied["name"] == "田中 健太" and replied["user_id"] == tanaka.pk


def test_strangers_and_unknown_cases_are_refused_and_bad_json_answered():
    case = CaseFactory()
    agent = UserFactory(username="tanaka")
    gone = UserFactory(username="former", is_active=False)

    async def scenario():
        anonymous = case_socket(case.pk)
        refused_anonymous = (await anonymous.connect())[0]
        inactive = case_socket(case.pk, gone)
        refused_inactive = (await inactive.connect())[0]
        missing = case_socket(case.pk + 999, agent)
        refused_missing = (await missing.connect())[0]
        ok = case_socket(case.pk, agent)
        assert (await ok.connect())[0]
        await ok.send_to(text_data="{not json")
        error = await receive_until(ok, "error")
        await ok.disconnect()
        return refused_anonymous, refused_inactive, refused_missing, error

    refused_anonymous, refused_inactive, refused_missing, error = async_to_sync(scenario)()
    assert (refused_anonymous, refused_inactive, refused_missing) == (False, False, False)
    assert "形式が正しくありません" in error["message"]
