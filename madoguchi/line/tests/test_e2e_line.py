"""The agent's side of LINE in headless Chromium: a LINE message (a signed webhook to the live
server) becomes a case with the customer's LINE name and the photo they sent; the agent answers from the
case page, and the answer reaches the (fake) LINE API and shows as sent."""

from __future__ import annotations

import time
import urllib.request

import pytest

from madoguchi.cases.models import Case
from madoguchi.conftest import login, screenshot
from madoguchi.testing.factories import UserFactory
from madoguchi.testing.fake_line import SECRET, TOKEN, FakeLine, event, sign, webhook_body

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
USER = "Ufedcba9876543210fedcba9876543210"


def test_an_agent_answers_a_line_message_from_the_case_page(new_page, live_server, settings, shop_open):
    with FakeLine() as fake:
        fake.profiles[USER] = {"displayName": "木村 さくら"}
        fake.contents["img1"] = (b"\x89PNG\r\n\x1a\n fake image", "image/png")
        settings.LINE_CHANNEL_SECRET, settings.LINE_CHANNEL_ACCESS_TOKEN = SECRET, TOKEN
        settings.LINE_API_BASE = settings.LINE_DATA_API_BASE = fake.url
        UserFactory(username="tanaka", display_name="田中 健太")
        now = int(time.time() * 1000)
        body = webhook_body(
            event("message", USER, "E2E1", now - 2000, message={"type": "text", "id": "t1", "text": "届いたお皿が欠けていました"}),
            event("message", USER, "E2E2", now - 1000, message={"type": "image", "id": "img1", "contentProvider": {"type": "line"}}),
        )
        request = urllib.request.Request(live_server.url + "/line/webhook/", data=body, method="POST",
                                         headers={"Content-Type": "application/json", "X-Line-Signature": sign(body)})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        deadline = time.monotonic() + 20
        while not Case.objects.filter(channel="line").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        case = Case.objects.get(channel="line")

        agent = new_page()
        login(agent, "tanaka")
        agent.goto(f"/cases/{case.pk}/")
        timeline = agent.locator(".timeline")
        assert "届いたお皿が欠けていました" in timeline.inner_text()
        assert "木村 さくら" in timeline.inner_text()
        assert agent.locator(".line-attachment a").inner_text().startswith("画像-img1")
        agent.fill("#reply-body", "大変申し訳ございません。代わりの品をすぐにお送りします。")
        agent.click("#reply button.primary")
        agent.wait_for_url(f"**/cases/{case.pk}/")
        delivery = agent.locator("[data-testid=line-delivery]")
        delivery.wait_for()
        assert "送信済み" in delivery.inner_text()
        assert "送信はされません" not in agent.content()
        screenshot(agent, "line-reply-sent")
        [sent] = fake.delivered
        assert sent["json"]["messages"][0]["text"].startswith("大変申し訳ございません。")
