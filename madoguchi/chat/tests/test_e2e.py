"""End to end in Chromium against real `madoguchi serve` processes (ASGI, WebSockets).

The shop's page is served by the test on its own port (a foreign origin) with the one script
tag; the visitor's page talks to process A, the agent's desk runs on process B (sharing the
Redis channel layer when Redis runs), each in its own browser context.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from madoguchi.chat.tests.servers import PASSWORD, Desk, running_desk, shop_page
from madoguchi.conftest import screenshot

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def desk() -> Iterator[Desk]:
    with running_desk(processes=2) as running:
        yield running


@pytest.fixture
def contexts(browser: Any) -> Iterator[Any]:
    made: list[Any] = []

    def make(base_url: str) -> Any:
        context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", base_url=base_url)
        context.set_default_timeout(15000)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


def agent_login(context: Any, username: str) -> Any:
    page = context.new_page()
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")
    page.wait_for_url(lambda url: "/login/" not in url)
    return page


def widget(page: Any) -> Any:
    return page.locator("#madoguchi-chat")


def visitor_says(page: Any, text: str) -> None:
    box = widget(page).locator("textarea[name=text]")
    box.fill(text)
    box.press("Enter")


def test_offline_leave_a_message_and_the_contact_form(desk: Desk, contexts: Any) -> None:
    desk.shop_pages["/"] = shop_page(desk)
    desk.shop_pages["/contact"] = (
        '<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"></head><body><h1>お問い合わせ</h1>'
        f'<iframe id="form" src="{desk.urls[0]}/chat/forms/contact/" style="width:100%;height:900px"></iframe></body></html>'
    )
    page = contexts(desk.shop_url).new_page()
    page.goto("/")
    widget(page).locator(".launcher").click()
    offline = widget(page).locator("form.offline")
    offline.locator("input[name=email]").fill("yumi@example.jp")
    offline.locator("input[name=name]").fill("中村 由美")
    offline.locator("textarea[name=message]").fill("夜分にすみません。届いた皿が割れていました。")
    offline.locator("button").click()
    status = widget(page).locator(".status")
    status.filter(has_text="受付番号").wait_for()
    assert re.search(r"受付番号 #\d+", status.inner_text())
    screenshot(page, "chat-offline-form")

    page.goto("/contact")
    form = page.frame_locator("#form")
    form.locator("input[name=name]").fill("加藤 恵子")
    form.locator("input[name=email]").fill("keiko@example.jp")
    form.locator("input[name=order_number]").fill("ORD-2026-000777")
    form.locator("textarea[name=message]").fill("注文した色と違う商品が届きました。")
    page.wait_for_timeout(1100)  # a person takes longer than the form's minimum time
    form.locator("button").click()
    number = form.locator("[data-testid=case-number]")
    number.wait_for()
    screenshot(page, "chat-contact-form-in-iframe")

    agent = agent_login(contexts(desk.urls[1]), "chat1")
    agent.goto(f"/cases/{number.inner_text().lstrip('#')}/")
    assert "注文した色と違う商品が届きました。" in agent.locator(".timeline").inner_text()


def test_visitor_and_agent_chat_through_a_network_drop_and_a_transfer(desk: Desk, contexts: Any) -> None:
    desk.shop_pages["/"] = shop_page(desk)
    agent = agent_login(contexts(desk.urls[1]), "chat1")
    agent.goto("/")
    agent.locator("#chat-waiting").wait_for()

    visitor_context = contexts(desk.shop_url)
    visitor = visitor_context.new_page()
    visitor.goto("/")
    w = widget(visitor)
    w.locator(".launcher").click()
    w.locator(".prechat input[name=name]").fill("山田 太郎")
    w.locator(".prechat input[name=email]").fill("taro@example.jp")
    visitor_says(visitor, "注文した急須がまだ届きません")
    w.locator(".status").filter(has_text="番目").wait_for()

    row = agent.locator("#chat-waiting li[data-id]").filter(has_text="山田 太郎")
    row.wait_for()
    row.get_by_role("button", name="対応する").click()
    agent.wait_for_url(re.compile(r"/cases/\d+/"))
    panel = agent.locator("#chat-panel")
    panel.locator(".chat-m.from-customer").filter(has_text="注文した急須がまだ届きません").wait_for()
    w.locator(".status").filter(has_text="担当: 佐藤 花子").wait_for()

    panel.locator("[data-canned]").first.click()
    panel.locator("textarea[name=text]").press("Enter")
    w.locator(".m.agent").filter(has_text="担当の佐藤 花子です").wait_for()
    visitor_says(visitor, "<b>注文番号</b>は ORD-2026-000123 です")
    panel.locator(".chat-m.from-customer").filter(has_text="<b>注文番号</b>").wait_for()

    # The visitor's network drops: what they type waits, what the agent sends waits too.
    visitor_context.set_offline(True)
    w.locator(".status").filter(has_text="接続が切れました").wait_for()
    visitor_says(visitor, "電波が悪いところにいます")
    visitor_says(visitor, "届けば連絡ください")
    panel.locator("textarea[name=text]").fill("配送状況を確認いたします。")
    panel.locator("textarea[name=text]").press("Enter")
    panel.locator(".chat-m.from-agent:not(.pending)").filter(has_text="配送状況を確認いたします。").wait_for()
    visitor_context.set_offline(False)
    panel.locator(".chat-m.from-customer").filter(has_text="届けば連絡ください").wait_for()
    w.locator(".m.agent").filter(has_text="配送状況を確認いたします。").wait_for()
    w.locator(".m.pending").first.wait_for(state="detached")
    screenshot(visitor, "chat-visitor-after-reconnect")

    # Typing is shown to the visitor.
    panel.locator("textarea[name=text]").type("確認中")
    w.locator(".typing").filter(has_text="担当者が入力中").wait_for()
    panel.locator("textarea[name=text]").fill("")

    # The agent hands the chat to a colleague with a note.
    panel.locator("details summary").click()
    panel.locator("select[name=to_user]").select_option(label="鈴木 一郎")
    panel.locator("textarea[name=note]").fill("配送遅延の件。問い合わせ番号を調べ中です。")
    panel.get_by_role("button", name="転送する").click()
    agent.locator("[data-testid=assignee]").filter(has_text="鈴木 一郎").wait_for()
    w.locator(".m.system").filter(has_text="担当が鈴木 一郎に代わります").wait_for()
    screenshot(agent, "chat-agent-after-transfer")

    customer_lines = ["注文した急須がまだ届きません", "<b>注文番号</b>は ORD-2026-000123 です", "電波が悪いところにいます", "届けば連絡ください"]
    agent_lines = ["お問い合わせいただきありがとうございます。担当の佐藤 花子です。", "配送状況を確認いたします。"]
    visitor_log = w.locator(".log .m").all_inner_texts()
    panel_log = panel.locator(".chat-log .body").all_inner_texts()
    for line in customer_lines + agent_lines:
        assert sum(line in text for text in visitor_log) == 1, (line, visitor_log)
        assert sum(line == text for text in panel_log) == 1, (line, panel_log)
    agent.reload()
    timeline = agent.locator(".timeline .body").all_inner_texts()
    for line in customer_lines + agent_lines:
        assert sum(line == text for text in timeline) == 1, (line, timeline)
    assert "配送遅延の件。問い合わせ番号を調べ中です。" in agent.locator(".timeline").inner_text()

    # The conversation is kept across page loads of the shop.
    visitor.reload()
    widget(visitor).locator(".m.customer").filter(has_text="届けば連絡ください").wait_for(state="attached")
