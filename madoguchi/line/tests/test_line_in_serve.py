"""Through the process users run: `madoguchi serve` (its embedded worker doing the filing and
sending) with the LINE settings pointing at a local fake LINE API. A signed webhook makes a case
whose customer has the LINE display name, and an agent's reply, posted over HTTP by a logged-in
agent, reaches the fake API."""

from __future__ import annotations

import http.cookiejar
import os
import re
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from madoguchi.testing.desk_process import OPEN_AROUND_THE_CLOCK, MailSink, ServedDesk, wait_for
from madoguchi.testing.fake_line import SECRET, TOKEN, FakeLine, event, sign, webhook_body

USER = "U0123456789abcdef0123456789abcdef"
PASSWORD = "pass-窓口-2026"


@pytest.fixture
def desk_and_line(tmp_path: Path) -> Iterator[tuple[ServedDesk, FakeLine]]:
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("the process layout is the same on both databases")
    with MailSink() as sink, FakeLine() as fake:
        fake.profiles[USER] = {"displayName": "LINE 太郎", "pictureUrl": "https://profile.line-scdn.net/taro"}
        served = ServedDesk.create(
            tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'desk.sqlite3'}", sink.port, MADOGUCHI_MAIL_ACK="false",
            MADOGUCHI_LINE_CHANNEL_SECRET=SECRET, MADOGUCHI_LINE_CHANNEL_ACCESS_TOKEN=TOKEN,
            MADOGUCHI_LINE_API_BASE=fake.url, MADOGUCHI_LINE_DATA_API_BASE=fake.url,
        )
        served.shell(OPEN_AROUND_THE_CLOCK + "from madoguchi.accounts.models import User\n"
                     f"User.objects.create_user(username='line1', password={PASSWORD!r}, display_name='佐藤 花子')")
        served.start()
        try:
            yield served, fake
        finally:
            served.stop()



@pytest.mark.own_database
def test_a_signed_webhook_to_serve_opens_a_case_and_the_agents_reply_reaches_line(desk_and_line) -> None:
    desk, fake = desk_and_line
    body = webhook_body(event("message", USER, "01SERVE", int(time.time() * 1000), message={
        "type": "text", "id": "m1", "text": "届いた商品が壊れていました。交換できますか？"}))
    started = time.monotonic()
    request = urllib.request.Request(desk.url + "/line/webhook/", data=body, method="POST", headers={
        "Content-Type": "application/json", "X-Line-Signature": sign(body)})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    assert time.monotonic() - started < 1.0  # answered at once; the worker files it after

    case_line = "from madoguchi.cases.models import Case\nc = Case.objects.filter(channel='line').first()\n" \
                "print(f'{c.pk}|{c.customer.name}' if c else '')"
    found = wait_for(lambda: desk.shell(case_line))
    case_id, name = found.split("|")
    assert name == "LINE 太郎"

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(desk.url + "/login/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    opener.open(urllib.request.Request(desk.url + "/login/", data=urllib.parse.urlencode(
        {"username": "line1", "password": PASSWORD, "csrfmiddlewaretoken": token}).encode(),
        headers={"Referer": desk.url + "/login/"}), timeout=10)
    page = opener.open(f"{desk.url}/cases/{case_id}/", timeout=10).read().decode()
    assert "届いた商品が壊れていました" in page
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    opener.open(urllib.request.Request(f"{desk.url}/cases/{case_id}/reply/", data=urllib.parse.urlencode(
        {"re-body": "大変申し訳ございません。すぐに交換品をお送りします。", "csrfmiddlewaretoken": token}).encode(),
        headers={"Referer": f"{desk.url}/cases/{case_id}/"}), timeout=10)

    # (out of the shop's hours the after-hours answer went first: the agent's reply is the one after it)
    def agents_reply() -> list[dict]:  # type: ignore[type-arg]
        return [entry for entry in fake.delivered
                if entry["json"]["messages"][0]["text"].startswith("大変申し訳ございません。すぐに交換品をお送りします。")]

    [sent] = wait_for(agents_reply)
    assert sent["path"] in ("/v2/bot/message/reply", "/v2/bot/message/push")
    page = wait_for(lambda: (p := opener.open(f"{desk.url}/cases/{case_id}/", timeout=10).read().decode())
                    and "送信済み" in p and p)
    assert 'data-testid="line-delivery"' in page
