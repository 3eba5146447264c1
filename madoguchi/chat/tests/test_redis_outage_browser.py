"""Redis away during a chat, in Chromium (issue 21 acceptance: "chat tells users and recovers").
Two `serve` processes share a Redis of the test's own (madoguchi/testing/private_servers.py) as
the scale mode does (the visitor on one, the agent on the other; PostgreSQL in the suite's
PostgreSQL pass). When Redis stops, the visitor's widget and the agent's chat panel both say in
Japanese that the connection is lost and being restored; what each types meanwhile waits;
once Redis is back both notices go, and every message arrives once on both sides and in the
case's timeline. The socket-level version (one process) is test_redis_outage.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from madoguchi.chat.tests.servers import Desk, running_desk, shop_page
from madoguchi.chat.tests.test_e2e import agent_login, visitor_says, widget
from madoguchi.conftest import screenshot
from madoguchi.testing.private_servers import PrivateRedis, private_redis, redis_bin

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(redis_bin() is None, reason="redis-server is not installed")]
NOTICE = "接続が切れました"


@pytest.fixture(scope="module")
def desk_and_redis() -> Iterator[tuple[Desk, PrivateRedis]]:
    with private_redis() as redis, running_desk(processes=2, env={"REDIS_URL": redis.url}) as desk:
        yield desk, redis


def test_redis_stopping_is_told_to_visitor_and_agent_and_nothing_is_lost(desk_and_redis: Any, browser: Any) -> None:
    desk, redis = desk_and_redis
    desk.shop_pages["/"] = shop_page(desk)
    contexts = []
    try:
        for base in (desk.urls[1], desk.shop_url):
            context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", base_url=base)
            context.set_default_timeout(30000)
            contexts.append(context)
        agent = agent_login(contexts[0], "chat1")
        agent.goto("/")
        agent.locator("#chat-waiting").wait_for()
        visitor = contexts[1].new_page()
        visitor.goto("/")
        w = widget(visitor)
        w.locator(".launcher").click()
        w.locator(".prechat input[name=name]").fill("小林 直子")
        w.locator(".prechat input[name=email]").fill("naoko@example.jp")
        visitor_says(visitor, "湯呑みが欠けて届きました")
        w.locator(".status").filter(has_text="番目").wait_for()
        row = agent.locator("#chat-waiting li[data-id]").filter(has_text="小林 直子")
        row.wait_for()
        row.get_by_role("button", name="対応する").click()
        agent.wait_for_url(re.compile(r"/cases/\d+/"))
        panel = agent.locator("#chat-panel")
        panel.locator(".chat-m.from-customer").filter(has_text="湯呑みが欠けて届きました").wait_for()
        note = panel.locator(".chat-connection")
        assert note.is_hidden()

        redis.stop()
        visitor_says(visitor, "写真を送ればいいですか")
        w.locator(".status").filter(has_text=NOTICE).wait_for(timeout=60000)
        note.filter(has_text=NOTICE).wait_for(timeout=60000)
        panel.locator("textarea[name=text]").fill("申し訳ございません。確認いたします。")
        panel.locator("textarea[name=text]").press("Enter")
        agent.wait_for_timeout(5000)  # sockets that open meanwhile close again: the notices stay
        assert NOTICE in note.inner_text() and note.is_visible()
        assert NOTICE in w.locator(".status").inner_text()
        screenshot(visitor, "chat-visitor-redis-down")
        screenshot(agent, "chat-agent-redis-down")
        redis.start()

        note.wait_for(state="hidden", timeout=90000)
        panel.locator(".chat-m.from-customer").filter(has_text="写真を送ればいいですか").wait_for(timeout=90000)
        w.locator(".m.agent").filter(has_text="申し訳ございません。確認いたします。").wait_for(timeout=90000)
        w.locator(".m.pending").first.wait_for(state="detached", timeout=90000)
        assert NOTICE not in w.locator(".status").inner_text()
        visitor_says(visitor, "お願いします")  # live again through Redis
        panel.locator(".chat-m.from-customer").filter(has_text="お願いします").wait_for()

        customer_lines = ["湯呑みが欠けて届きました", "写真を送ればいいですか", "お願いします"]
        visitor_log = w.locator(".log .m").all_inner_texts()
        panel_log = panel.locator(".chat-log .body").all_inner_texts()
        for line in customer_lines:
            assert sum(line in text for text in visitor_log) == 1, (line, visitor_log)
            assert sum(line == text for text in panel_log) == 1, (line, panel_log)
        assert sum("確認いたします。" in text for text in visitor_log) == 1, visitor_log
        agent.reload()
        timeline = agent.locator(".timeline .body").all_inner_texts()
        for line in [*customer_lines, "申し訳ございません。確認いたします。"]:
            assert sum(line == text for text in timeline) == 1, (line, timeline)
    finally:
        for context in contexts:
            context.close()
