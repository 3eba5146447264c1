"""End to end in headless Chromium (issue 18): a customer's mail naming their order arrives
through the mail intake, the case shows the order, its lines and the carrier's tracking link
(linked by the desk, undoable); an agent links the misread passage with how the customer
understood it, and the change history shows it."""

from __future__ import annotations

import pytest

from madoguchi.cases.models import AuditEvent, Case
from madoguchi.conftest import login, screenshot
from madoguchi.customers.models import IdentityKind
from madoguchi.mail.ingest import do_ingest_raw
from madoguchi.mail.tests.helpers import japanese_mail
from madoguchi.shop.models import Carrier, CaseShop, OrderItem
from madoguchi.testing.factories import (
    CustomerFactory,
    IdentityFactory,
    OrderFactory,
    PassageFactory,
    ProductFactory,
    UserFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("shop_open")]

UNDERSTOOD = "「食器洗い乾燥機に対応」を、金彩の縁まで何度洗っても落ちないという意味だと受け取った"


def test_mail_naming_an_order_shows_it_on_the_case_and_the_agent_links_the_misread_passage(new_page):
    UserFactory(username="tanaka", display_name="田中 健太")
    customer = CustomerFactory(name="佐藤 花子", kana="サトウ ハナコ")
    IdentityFactory(customer=customer, kind=IdentityKind.EMAIL, value="hanako@example.jp")
    mug = ProductFactory(name="有田焼 金彩マグカップ")
    PassageFactory(product=mug, position=1, text="職人が一つずつ手描きした金彩の縁取りです。")
    PassageFactory(product=mug, position=2, text="電子レンジ・食器洗い乾燥機に対応しています。")
    order = OrderFactory(customer=customer, number="1024", carrier=Carrier.SAGAWA, tracking_number="360012345678",
                         amount_yen=7160)
    OrderItem.objects.create(order=order, product=mug, sku=mug.sku, name="有田焼 金彩マグカップ", quantity=2, unit_price_yen=3280)
    OrderItem.objects.create(order=order, name="ギフト包装", quantity=1, unit_price_yen=600)

    # The customer's mail arrives through the mail intake (stored raw, filed by the worker).
    row, _created = do_ingest_raw(japanese_mail(
        subject="金の縁が剥げました", sender="hanako@example.jp", name="佐藤 花子",
        body="注文番号＃１０２４のマグカップを食洗機で洗ったら、金の縁が剥げてしまいました。\n食洗機対応と書いてあったのに。"), "smtp")
    row.refresh_from_db()
    case = Case.objects.get(pk=row.case_id)
    assert case.order == order  # linked by the worker after the mail was filed

    page = new_page()
    login(page, "tanaka")
    page.goto(f"/cases/{case.pk}/")
    card = page.locator("[data-testid=case-order]")
    assert "自動でリンクしました" in card.inner_text()
    assert card.locator("[data-testid=order-number]").inner_text().startswith("1024")
    assert "有田焼 金彩マグカップ × 2" in card.inner_text() and "ギフト包装 × 1" in card.inner_text()
    link = card.locator("[data-testid=tracking-link]")
    assert link.inner_text() == "360012345678"
    assert link.get_attribute("href") == "https://k2k.sagawa-exp.co.jp/p/web/okurijosearch.do?okurijoNo=360012345678"
    page.wait_for_selector("#customer-panel[data-loaded]")
    assert "1024" in page.locator("[data-testid=customer-orders]").inner_text()

    # The agent picks the mug line and the passage the customer misread, with how she read it.
    card.get_by_text("明細・説明文を選ぶ").click()
    page.wait_for_url(f"**/orders/case/{case.pk}/link/{order.pk}/")
    page.get_by_label("有田焼 金彩マグカップ × 2").check()
    page.get_by_label("電子レンジ・食器洗い乾燥機に対応しています。", exact=False).check()
    page.fill("textarea[name=understood_as]", UNDERSTOOD)
    page.click("[data-testid=order-link-form] button.primary")
    page.wait_for_url(f"**/cases/{case.pk}/")
    card = page.locator("[data-testid=case-order]")
    assert "電子レンジ・食器洗い乾燥機に対応しています。" in card.locator("[data-testid=misread-passage]").inner_text()
    assert card.locator("[data-testid=understood-as]").inner_text() == UNDERSTOOD
    assert "自動でリンクしました" not in card.inner_text()  # an agent confirmed it
    assert "注文をリンク" in page.locator("ul.audit").inner_text()
    screenshot(page, "case-order-linked")

    case.refresh_from_db()
    assert case.passage is not None and case.passage.position == 2 and case.product == mug
    assert CaseShop.objects.get(case=case).understood_as == UNDERSTOOD
    assert list(AuditEvent.objects.filter(case=case, action__startswith="order_").order_by("at").values_list("action", flat=True)) == [
        "order_auto_linked", "order_linked"]
