"""The chat widget settings in the process shops run (`madoguchi serve`): an admin saves the
allowed sites and the greeting on the desk's page over HTTP; the same running process's widget
socket then accepts the new site, greets with the saved words, and refuses the environment's
site it no longer lists. Nothing is restarted."""

from __future__ import annotations

import asyncio
import json
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets

from madoguchi.chat.tests.servers import login_cookie, own_database
from madoguchi.testing.desk_process import ServedDesk, free_port

pytestmark = pytest.mark.e2e
ENV_SHOP = "http://env-shop.example.jp"
NEW_SHOP = "https://komorebi.example.jp"
GREETING = "こんにちは。こもれび堂です。ご用件をどうぞ。"
ADMIN = """
from madoguchi.accounts.models import Role, User
u = User(username="kimura", role=Role.ADMIN); u.set_password("pass-窓口-2026"); u.save(); print(u.pk)
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServedDesk]:
    with own_database("settings_widget") as database_url:
        desk = ServedDesk.create(tmp_path / "data", database_url, sink_port=free_port(),
                                 MADOGUCHI_CHAT_ALLOWED_ORIGINS=ENV_SHOP, MADOGUCHI_CHAT_BUSINESS_HOURS="false")
        try:
            yield desk
        finally:
            desk.stop()


async def welcome_from(url: str, origin: str) -> dict | None:
    try:
        async with websockets.connect(url.replace("http", "ws", 1) + "/ws/chat/widget/", origin=origin) as ws:  # type: ignore[arg-type]
            await ws.send(json.dumps({"type": "hello"}))
            while True:
                event = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if event["type"] == "welcome":
                    return event
    except websockets.exceptions.InvalidStatus as refused:
        assert refused.response.status_code == 403
        return None


def save_widget_settings(base: str, cookie: str) -> int:
    opener = urllib.request.build_opener()
    opener.addheaders = [("Cookie", cookie)]
    page = opener.open(base + "/settings/chat/", timeout=10).read().decode()
    assert ENV_SHOP in page  # the environment's value until saved
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "allowed_origins": NEW_SHOP, "greeting": GREETING,
                                   "opens": "", "closes": ""}).encode()
    request = urllib.request.Request(base + "/settings/chat/", data=data, headers={"Referer": base + "/settings/chat/"})
    with opener.open(request, timeout=10) as response:
        return response.status


def test_saved_widget_settings_apply_at_once_in_the_running_desk(served: ServedDesk) -> None:
    assert served.shell(ADMIN).isdigit()
    served.start()
    before = asyncio.run(welcome_from(served.url, ENV_SHOP))
    assert before is not None and before["greeting"] == ""
    assert asyncio.run(welcome_from(served.url, NEW_SHOP)) is None

    assert save_widget_settings(served.url, login_cookie(served.url, "kimura")) == 200  # followed to the page

    after = asyncio.run(welcome_from(served.url, NEW_SHOP))
    assert after is not None and after["greeting"] == GREETING
    assert asyncio.run(welcome_from(served.url, ENV_SHOP)) is None
    trail = served.shell("from madoguchi.accounts.models import SettingsChange; "
                         "print(SettingsChange.objects.filter(target='チャットウィジェットの設定').count())")
    assert trail == "1"
