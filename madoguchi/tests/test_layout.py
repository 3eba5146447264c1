"""Layout in real Chromium on a real `madoguchi serve`, with text that breaks layouts (long
Japanese names and subjects, emoji, an unbroken URL and address): no main page scrolls sideways
at 1280 px in Japanese or English, nor hides a column in a scrolling box; at phone width the
inbox, the case pages and the chat widget do not scroll sideways; the widget's labels sit over
their fields and its placeholder fits; the embedded contact form shows its send button."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest

from madoguchi.conftest import login
from madoguchi.testing.layout_desk import ADMIN
from madoguchi.testing.screenshots import (
    DESK_PAGES,
    LayoutDesk,
    new_context,
    open_widget,
    served_layout_desk,
    settle,
    sideways,
    widget_problems,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def served() -> Iterator[LayoutDesk]:
    with served_layout_desk() as desk:
        yield desk


@pytest.fixture
def context(browser: Any, served: LayoutDesk) -> Iterator[Any]:
    made: list[Any] = []

    def make(width: int, language: str, shop: bool = False) -> Any:
        made.append(new_context(browser, served.shop_url if shop else served.url, width, language))
        return made[-1]

    yield make
    for one in made:
        one.close()


def desk_page(context: Any) -> Any:
    page = context.new_page()
    login(page, ADMIN)
    return page


def problems_on(page: Any, paths: list[str], width: int) -> list[str]:
    found = []
    for path in paths:
        page.goto(path)
        settle(page)
        found += [f"{path}: {problem}" for problem in sideways(page, width)]
    return found


def test_the_chat_widget_forms_line_up_and_the_placeholder_fits(context: Any, served: LayoutDesk) -> None:
    # No agent online: the leave-a-message form; then, with an agent's inbox open, the
    # pre-chat fields and the message box.
    for width in (390, 1280):
        visitor = context(width, "ja", shop=True).new_page()
        open_widget(visitor, served.shop_url)
        assert visitor.locator("#madoguchi-chat form.offline").is_visible()
        assert widget_problems(visitor) == [] and sideways(visitor, width) == []
    desk_page(context(1280, "ja")).goto(served.paths["inbox"])
    for width in (390, 1280):
        visitor = context(width, "ja", shop=True).new_page()
        open_widget(visitor, served.shop_url)
        assert visitor.locator("#madoguchi-chat .prechat").is_visible()
        assert widget_problems(visitor) == [] and sideways(visitor, width) == []


@pytest.mark.parametrize("language", ["ja", "en"])
def test_no_main_page_scrolls_sideways_at_1280(context: Any, served: LayoutDesk, language: str) -> None:
    page = desk_page(context(1280, language))
    found = problems_on(page, [served.paths[key] for key in DESK_PAGES] + [served.paths["contact_form"]], 1280)
    assert found == []


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_admins_top_bar_is_one_line_at_1280_and_its_menus_open_one_at_a_time(
        context: Any, served: LayoutDesk, language: str) -> None:
    # The admin sees every page of the bar: it wrapped to three lines at 1280 px before the
    # pages used now and then moved into menus.
    page = desk_page(context(1280, language))
    page.goto(served.paths["inbox"])
    settle(page)
    bar = page.locator("header.topbar").bounding_box()
    assert bar is not None and bar["height"] < 60, bar
    summaries = page.locator("header.topbar details.menu > summary")
    assert summaries.count() == 4  # 分析, お客様・注文, 管理, and the user's own menu
    for index in range(summaries.count()):
        summaries.nth(index).click()
        opened = page.locator("header.topbar details.menu[open]")
        assert opened.count() == 1
        box = opened.locator(":scope > div").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 1280, box
        assert opened.locator("a, button").first.is_visible()
    page.keyboard.press("Escape")
    assert page.locator("header.topbar details.menu[open]").count() == 0
    page.locator("header.topbar details.menu > summary").first.click()
    page.mouse.click(640, 400)  # a click elsewhere closes it
    assert page.locator("header.topbar details.menu[open]").count() == 0


@pytest.mark.parametrize(("language", "width"), [("ja", 1280), ("en", 1280), ("ja", 1440), ("en", 1440)])
def test_the_inbox_shows_the_sla_column(context: Any, served: LayoutDesk, language: str, width: int) -> None:
    page = desk_page(context(width, language))
    page.goto(served.paths["inbox"])
    settle(page)
    sla = page.locator("table.cases tbody tr").first.locator("td").last
    assert sla.locator(".sla-timer, *").count() or sla.inner_text().strip()
    box = sla.bounding_box()
    frame = page.locator("section.list").bounding_box()
    assert box is not None and frame is not None
    assert box["x"] + box["width"] <= min(width, frame["x"] + frame["width"]) + 1
    overdue = page.locator("table.cases tbody td:last-child", has_text=re.compile("超過|over", re.I)).first
    assert overdue.is_visible()


@pytest.mark.parametrize("language", ["ja", "en"])
def test_phone_width_inbox_and_case_pages_do_not_scroll_sideways(context: Any, served: LayoutDesk, language: str) -> None:
    page = desk_page(context(390, language))
    keys = ["inbox", "mail_case", "chat_case", "customer", "dashboard"]
    assert problems_on(page, [served.paths[key] for key in keys], 390) == []


def frame_fits_form(page: Any) -> bool:
    """The iframe is as tall as the contact form in it (the send button in view, no empty
    space under it). The frame is of another origin: each side is measured in its own document."""
    for _ in range(50):
        frame = page.locator("iframe[src*='forms/contact']")
        height = frame.bounding_box()["height"]
        form = frame.content_frame.locator("html").evaluate(
            "html => ({content: html.getBoundingClientRect().height,"
            " button: html.querySelector('button').getBoundingClientRect().bottom})"
        )
        if form["button"] <= height and abs(height - form["content"]) <= 2:
            return True
        page.wait_for_timeout(100)
    return False


def test_the_embedded_contact_form_shows_its_send_button(context: Any, served: LayoutDesk) -> None:
    # The embed code exactly as the desk suggests it on the chat page, on the shop's page.
    desk = desk_page(context(1280, "ja"))
    desk.goto(served.paths["chats"])
    snippet = html.unescape(desk.locator("pre").last.inner_text())
    assert "forms/contact" in snippet
    served.contact_page(snippet)
    for width in (390, 1280):
        page = context(width, "ja", shop=True).new_page()
        page.goto(served.shop_url + "/contact")
        form = page.frame_locator("iframe[src*='forms/contact']")
        form.locator("button").wait_for()
        assert frame_fits_form(page)
        # Sent empty, the form comes back longer (an error under each field): the frame follows.
        form.locator("form").evaluate("f => { f.noValidate = true; }")
        form.locator("button").click()
        form.locator(".error").first.wait_for()
        assert frame_fits_form(page)
