"""End to end in Chromium against a real `madoguchi serve` (ASGI: the presence socket needs it),
two agents in two browser contexts (issue 22, items 1 and 2): 「自分が担当」 in the inbox, each
sees the other viewing and typing, and the second reply is held and shown with 「それでも送信」."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from madoguchi.chat.tests.servers import PASSWORD, Desk, running_desk
from madoguchi.conftest import screenshot

pytestmark = pytest.mark.e2e

NEW_CASE = """
from madoguchi.cases.services import do_create_case
from madoguchi.cases.models import Category
from madoguchi.customers.models import Customer
customer = Customer.objects.create(name="山田 太郎", kana="ヤマダ タロウ")
case = do_create_case(actor=None, customer=customer, subject="届いたマグカップが割れていた", channel="phone",
                      category=Category.objects.get(code="defect"), complaint="昨日届いた有田焼のマグカップが割れていました。")
print(case.pk)
"""


@pytest.fixture(scope="module")
def desk() -> Iterator[Desk]:
    with running_desk(processes=1, redis=False) as running:
        yield running


def replies_sent(desk: Desk, case_id: int) -> int:
    code = f"from madoguchi.cases.models import Interaction; print(Interaction.objects.filter(case_id={case_id}, kind='outbound').count())"
    return int(desk.shell(code).strip().splitlines()[-1])


def agent(browser: Any, desk: Desk, username: str) -> Any:
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", base_url=desk.urls[0])
    context.set_default_timeout(15000)
    page = context.new_page()
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")
    page.wait_for_url(lambda url: "/login/" not in url)
    return page


def test_two_agents_take_see_each_other_and_never_reply_twice(browser, desk):
    case_id = int(desk.shell(NEW_CASE).strip().splitlines()[-1])
    a = agent(browser, desk, "chat1")  # 佐藤 花子
    b = agent(browser, desk, "chat2")  # 鈴木 一郎
    try:
        # 「自分が担当」 in the inbox row: one click, the cell says who has it now.
        a.goto("/?queue=unassigned")
        row = a.locator("tr", has=a.locator(f'a[href="/cases/{case_id}/"]')).first
        row.locator("[data-testid=take]").click()
        assert row.locator("[data-testid=taken]").inner_text() == "佐藤 花子"

        # Both open the case: each sees the other.
        a.goto(f"/cases/{case_id}/")
        b.goto(f"/cases/{case_id}/")
        b.locator("[data-testid=viewers]").filter(has_text="佐藤 花子").wait_for()
        a.locator("[data-testid=viewers]").filter(has_text="鈴木 一郎").wait_for()

        # A types: B sees it, live.
        a.fill("#reply-body", "")
        a.type("#reply-body", "山田様、佐藤です。")
        b.locator("[data-testid=typing]").filter(has_text="佐藤 花子 さんが返信を入力中です").wait_for()
        screenshot(b, "e2e-collision-typing")

        # A sends; B, who opened the page before, sends too: held, A's reply shown, confirm asked.
        a.fill("#reply-body", "山田様、佐藤です。代わりのマグカップを本日発送いたします。")
        a.click("#reply button.primary")
        a.wait_for_load_state()
        b.locator("[data-testid=replied]").filter(has_text="佐藤 花子 さんがお客様に返信しました").wait_for()
        b.fill("#reply-body", "山田様、鈴木です。確認して折り返しご連絡いたします。")
        b.click("#reply button.primary")
        collision = b.locator("[data-testid=reply-collision]")
        collision.wait_for()
        assert "代わりのマグカップを本日発送いたします" in collision.locator("[data-testid=their-reply]").inner_text()
        assert "あなたの返信はまだ送っていません" in collision.inner_text()
        assert b.input_value("#reply-body") == "山田様、鈴木です。確認して折り返しご連絡いたします。"
        screenshot(b, "e2e-collision-held")
        assert replies_sent(desk, case_id) == 1

        b.click("[data-testid=send-anyway]")
        b.wait_for_url(f"**/cases/{case_id}/")
        assert replies_sent(desk, case_id) == 2

        # B closes the page: A stops seeing B at once (the socket closed).
        a.locator("[data-testid=viewers]").filter(has_text="鈴木 一郎").wait_for()
        b.context.close()
        # A locator, not wait_for_function: a string predicate is evaluated by eval, which the
        # desk's Content-Security-Policy refuses.
        expect(a.locator("[data-testid=viewers]")).to_have_text("", timeout=15000)
    finally:
        for page in (a, b):
            try:
                page.context.close()
            except Exception:  # noqa: BLE001 - already closed above
                pass
