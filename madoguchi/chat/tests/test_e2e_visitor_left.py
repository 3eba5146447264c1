"""What an agent sees of a chat, in Chromium against a real `madoguchi serve` (ASGI,
WebSockets), with the agent's and the visitor's computers set to New York while the shop is in
Tokyo: chat times in the shop's zone, one composer on a chat case, a visitor who closed the
shop's page shown as gone (in the waiting list and on the case page, the composer turned off),
the time to take a chat in minutes."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from madoguchi.chat.tests.servers import PASSWORD, Desk, running_desk, shop_page
from madoguchi.conftest import screenshot

pytestmark = pytest.mark.e2e

TOKYO = ZoneInfo("Asia/Tokyo")
GRACE = 3


@pytest.fixture(scope="module")
def desk() -> Iterator[Desk]:
    # One process on its own in-memory channel layer: the shared Redis test database is flushed
    # by any other desk a test starts meanwhile, which drops this desk's group memberships.
    with running_desk(processes=1, redis=False, env={"MADOGUCHI_CHAT_VISITOR_GRACE_SECONDS": str(GRACE)}) as running:
        yield running


@pytest.fixture
def new_york(browser: Any) -> Iterator[Any]:
    made: list[Any] = []

    def make(base_url: str) -> Any:
        context = browser.new_context(locale="ja-JP", timezone_id="America/New_York", base_url=base_url,
                                      viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15000)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


def tokyo_hhmm(desk: Desk, expression: str) -> str:
    """A stored time (a Python expression on the desk's data) as Tokyo's clock reads it."""
    iso = desk.shell(f"from madoguchi.chat.models import ChatSession, ChatMessage\nprint(({expression}).isoformat())").strip().splitlines()[-1]
    return dt.datetime.fromisoformat(iso).astimezone(TOKYO).strftime("%H:%M")


def visitor_starts(context: Any, name: str, email: str, text: str) -> Any:
    page = context.new_page()
    page.goto("/")
    w = page.locator("#madoguchi-chat")
    w.locator(".launcher").click()
    w.locator(".prechat input[name=name]").fill(name)
    w.locator(".prechat input[name=email]").fill(email)
    box = w.locator("textarea[name=text]")
    box.fill(text)
    box.press("Enter")
    w.locator(".m.customer:not(.pending)").filter(has_text=text).wait_for()
    return page


def test_an_agent_in_another_zone_sees_shop_times_one_composer_and_a_visitor_who_left(desk: Desk, new_york: Any) -> None:
    desk.shop_pages["/"] = shop_page(desk)
    agent = new_york(desk.urls[0]).new_page()
    agent.goto("/login/")
    agent.fill("input[name=username]", "chat1")
    agent.fill("input[name=password]", PASSWORD)
    agent.click("button.primary")
    agent.wait_for_url(lambda url: "/login/" not in url)
    agent.goto("/chat/")

    # A visitor writes, then closes the shop's page: after the grace the list says so.
    gone_visitor = visitor_starts(new_york(desk.shop_url), "山田 太郎", "taro@example.jp", "注文した急須が届きません")
    row = agent.locator("#chat-waiting li[data-id]").filter(has_text="山田 太郎")
    row.wait_for()
    assert not row.locator(".chat-gone").is_visible()
    gone_visitor.close()
    left = tokyo_hhmm(desk, "ChatSession.objects.get(name='山田 太郎').visitor_left_at")
    row.locator(".chat-gone").filter(has_text=f"お客様は退出しました（{left}）").wait_for()
    screenshot(agent, "chat-waiting-visitor-left")

    # Another visitor waits 17 minutes (as the desk records it) before an agent takes the chat.
    visitor = visitor_starts(new_york(desk.shop_url), "中村 由美", "yumi@example.jp", "色違いの商品が届きました")
    desk.shell("import datetime as dt\nfrom madoguchi.chat.models import ChatSession\n"
               "s = ChatSession.objects.get(name='中村 由美')\n"
               "ChatSession.objects.filter(pk=s.pk).update(customer_first_message_at=s.customer_first_message_at - dt.timedelta(seconds=1040))")
    agent.reload()
    agent.locator("#chat-waiting li[data-id]").filter(has_text="中村 由美").get_by_role("button", name="対応する").click()
    agent.wait_for_url(re.compile(r"/cases/\d+/"))
    agent.wait_for_load_state("networkidle")
    panel = agent.locator("#chat-panel")
    said = panel.locator(".chat-m.from-customer").filter(has_text="色違いの商品が届きました")
    said.wait_for()

    # One composer, the chat's, with nothing of a letter in it.
    assert agent.locator("#reply").count() == 0
    boxes = agent.locator("textarea:visible")
    assert boxes.count() == 1 and boxes.first.get_attribute("name") == "text"
    assert "いつもご利用" not in agent.content()
    assert re.search(r"対応までの時間: 17分\d+秒", panel.inner_text()), panel.inner_text()

    # Times as the shop's clock reads them, not New York's (14 hours behind).
    said_at = tokyo_hhmm(desk, "ChatMessage.objects.get(text='色違いの商品が届きました').created_at")
    assert said.locator(".meta").first.inner_text().endswith(said_at), said.locator(".meta").first.inner_text()
    mine = visitor.locator("#madoguchi-chat .m.customer").filter(has_text="色違いの商品が届きました")
    assert said_at in mine.locator(".meta").inner_text()

    # The visitor leaves while the agent has the chat open: the page says so, the composer is off.
    visitor.close()
    notice = panel.locator("[data-testid=visitor-gone]")
    notice.filter(has_text="お客様は退出しました").wait_for()
    assert panel.locator(".chat-compose textarea").is_disabled()
    assert notice.get_by_role("button", name=re.compile("チャットを終了してメールで返信する")).is_visible()
    screenshot(agent, "chat-case-visitor-left")

    # Ending it turns the page to the one way left: a mail to the address the visitor gave.
    notice.get_by_role("button").click()
    agent.locator("[data-testid=chat-reply-note]").filter(has_text="yumi@example.jp").wait_for()
    assert agent.locator("#reply textarea[name=re-body]").is_visible()
    assert panel.locator(".chat-compose").count() == 0
    screenshot(agent, "chat-case-ended-mail-reply")
