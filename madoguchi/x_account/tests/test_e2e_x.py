"""The agent's side of X in headless Chromium: a customer's post mentioning the shop (fetched from
the fake X API by the fetch job) is a case; the agent sees where it was posted and how a reply
will go. A public reply with a phone number is stopped with a Japanese message and the words are
kept; the counter warns past 140 full-width characters while typing; the same words sent by DM
reach the (fake) X API and show as sent."""

from __future__ import annotations

import pytest

from madoguchi.cases.models import Case
from madoguchi.conftest import login, screenshot
from madoguchi.testing.factories import UserFactory
from madoguchi.testing.fake_x import CREDENTIALS, FakeX, user
from madoguchi.x_account import ingest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SAKURA = user("3333333333333333333", "sakura_k", "木村 さくら")


def test_an_agent_answers_a_mention_by_dm_after_a_public_reply_with_a_phone_number_is_stopped(new_page, settings, shop_open):
    with FakeX() as fake:
        for name, value in CREDENTIALS.items():
            setattr(settings, name.removeprefix("MADOGUCHI_"), value)
        settings.X_API_BASE = fake.url
        post = fake.mention(SAKURA, "@utsuwaya_shop 届いたお皿が欠けていました。どうしたらいいですか？")
        ingest.fetch()
        case = Case.objects.get(channel="x")
        UserFactory(username="tanaka", display_name="田中 健太")

        agent = new_page()
        login(agent, "tanaka")
        agent.goto(f"/cases/{case.pk}/")
        timeline = agent.locator(".timeline")
        assert "届いたお皿が欠けていました" in timeline.inner_text()
        assert "木村 さくら" in timeline.inner_text()
        where = agent.locator("[data-testid=x-where]")
        assert "Xの公開の投稿" in where.inner_text()
        assert where.locator("a").get_attribute("href") == f"https://x.com/sakura_k/status/{post['id']}"
        assert agent.locator("[data-testid=x-route-public]").is_checked()  # a mention is answered where it was posted

        # The counter, as X counts: 141 full-width characters are over the limit.
        agent.fill("#reply-body", "あ" * 141)
        assert agent.locator("[data-testid=x-count]").inner_text() == "全角換算 141 / 140 文字"
        assert agent.locator("[data-x-too-long]").is_visible()
        agent.fill("#reply-body", "ご不便をおかけし申し訳ございません。")
        assert not agent.locator("[data-x-too-long]").is_visible()

        words = "申し訳ございません。担当の田中まで 03-1234-5678 にお電話いただけますでしょうか。"
        agent.fill("#reply-body", words)
        agent.click("#reply button.primary")
        alert = agent.locator("#reply .error[role=alert]")
        alert.wait_for()
        assert "公開リプライに個人情報（電話番号）が含まれているため、送信を止めました" in alert.inner_text()
        assert agent.locator("#reply-body").input_value() == words  # nothing lost
        assert not fake.posted and not fake.sent_dms
        screenshot(agent, "x-public-reply-stopped")

        agent.check("[data-testid=x-route-dm]")
        assert agent.locator("[data-testid=x-count]").inner_text() == ""  # no limit shown for a DM
        agent.click("#reply button.primary")
        agent.wait_for_url(f"**/cases/{case.pk}/")
        delivery = agent.locator("[data-testid=x-delivery]")
        delivery.wait_for()
        assert "DM" in delivery.inner_text() and "送信済み" in delivery.inner_text()
        screenshot(agent, "x-dm-sent")
        [sent] = fake.sent_dms
        assert sent["to"] == SAKURA["id"] and sent["text"] == words
        assert not fake.posted
