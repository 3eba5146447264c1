"""End to end in headless Chromium: an agent searches 配送, opens the case, inserts a
template and a suggested article, is warned there is no greeting, sends; a customer reads
the public FAQ on a phone-sized screen."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from madoguchi.cases import services as case_services
from madoguchi.cases.models import Category, Channel, InteractionKind
from madoguchi.conftest import login, screenshot
from madoguchi.knowledge.seed import install_templates_and_rules, load_sample_articles
from madoguchi.testing.factories import CustomerFactory, OrderFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk() -> dict[str, Any]:
    # Transactional tests start from a flushed database: put back what migrations seed.
    delivery, _ = Category.objects.get_or_create(code="delivery", defaults={"name": "配送"})
    for code, name in (("defect", "商品の不具合"), ("description", "商品説明との相違"), ("billing", "請求・支払い")):
        Category.objects.get_or_create(code=code, defaults={"name": name})
    install_templates_and_rules()
    load_sample_articles()
    agent = UserFactory(username="kb-e2e", display_name="高橋 美咲")
    customer = CustomerFactory(name="山田 太郎")
    order = OrderFactory(customer=customer, number="ORD-2026-000555", tracking_number="480012345678")
    case = case_services.do_create_case(
        actor=agent, customer=customer, subject="荷物がまだ届きません", channel=Channel.PHONE, category=delivery,
        complaint="11月20日に注文した急須がまだ届きません。追跡番号で調べても配送状況が「荷物受付」のままです。",
        order=order, assignee=agent,
    )
    return {"agent": agent, "case": case}


def test_agent_replies_with_template_and_suggested_article(new_page: Any, desk: dict[str, Any]) -> None:
    page = new_page()
    login(page, "kb-e2e")
    page.fill(".kb-topsearch input[name=q]", "配送")
    page.press(".kb-topsearch input[name=q]", "Enter")
    page.wait_for_selector("[data-testid=search-results] mark")
    screenshot(page, "knowledge-search")
    page.click(f"[data-testid=search-results] a[href='/cases/{desk['case'].pk}/']")
    page.wait_for_selector("#kb-suggestions[data-loaded]")
    box = page.locator("#reply-body")
    # The greeting is added by default when the reply tools arrive (their own htmx fragment,
    # which may land after the suggestions): wait for it rather than race it.
    expect(box).to_have_value(re.compile(r"^山田 太郎様"))
    box.fill("")
    box.focus()
    page.keyboard.press("Alt+1")  # first body template: 配送状況のご案内
    assert "ORD-2026-000555" in box.input_value()
    assert "480012345678" in box.input_value()
    first = page.locator("#kb-suggestions [data-kb-article]").first
    assert "配送が遅れている場合" in first.inner_text()
    first.get_by_role("button", name="リンクを挿入").click()
    assert "/faq/" in box.input_value()
    hint = page.locator("#reply-hints li", has_text="書き出しの挨拶がありません")
    hint.wait_for()
    screenshot(page, "knowledge-reply-hints")
    page.click("#reply button.primary")
    page.wait_for_selector(".messages li")
    sent = desk["case"].interactions.filter(kind=InteractionKind.OUTBOUND).get()
    assert "ORD-2026-000555" in sent.body and "/faq/" in sent.body


def test_customer_reads_the_public_faq_on_a_phone(browser: Any, live_server: Any, desk: dict[str, Any]) -> None:
    context = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 844}, base_url=live_server.url)
    try:
        page = context.new_page()
        page.goto("/faq/")
        page.fill("input[name=q]", "ﾍﾝﾋﾟﾝ")  # half-width kana, as some phones type it
        page.fill("input[name=q]", "返品")
        page.press("input[name=q]", "Enter")
        page.click("text=返品・交換の方法")
        page.wait_for_selector("h1:has-text('返品・交換の方法')")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
        page.click("button:has-text('解決した')")
        page.wait_for_selector("text=ご回答ありがとうございました。")
        screenshot(page, "knowledge-faq-phone")
    finally:
        context.close()
