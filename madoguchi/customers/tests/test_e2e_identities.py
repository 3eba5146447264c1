"""The agent's side of item 4 in headless Chromium: on a customer's page the agent adds a LINE
user ID nobody holds (it joins the customer), then an X handle another customer holds (it is
not taken: the page warns, unconfirmed), checks and merges from the warning; the survivor's
page shows every contact."""

from __future__ import annotations

import pytest

from madoguchi.conftest import login, screenshot
from madoguchi.customers.models import Customer, Identity, IdentityKind
from madoguchi.testing.factories import CaseFactory, CustomerFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
LINE_ID = "Ufedcba9876543210fedcba9876543210"


def test_an_agent_adds_contacts_and_merges_a_claimed_one_from_the_customer_page(new_page, live_server):
    UserFactory(username="tanaka", display_name="田中 健太")
    holder = CustomerFactory(name="山田 太郎")
    Identity.objects.create(customer=holder, kind=IdentityKind.X, value="yamada_taro")
    customer = CustomerFactory(name="やまだ（LINE）")
    CaseFactory(customer=customer, subject="LINE: お皿が欠けていました")

    page = new_page()
    login(page, "tanaka")
    page.goto(f"/customers/{customer.pk}/")
    page.click("details.add-identity summary")
    form = page.locator("[data-testid=add-identity]")
    form.locator("select[name=kind]").select_option("line")
    form.locator("input[name=value]").fill("山田太郎")  # a display name, not an ID
    form.locator("button").click()
    assert "LINEユーザーIDは「U」と32文字" in page.content()
    form = page.locator("[data-testid=add-identity]")
    form.locator("select[name=kind]").select_option("line")
    form.locator("input[name=value]").fill(LINE_ID)
    form.locator("button").click()
    page.wait_for_url(f"**/customers/{customer.pk}/")
    assert f"LINE: {LINE_ID}" in page.locator("[data-testid=identities]").inner_text()

    page.click("details.add-identity summary")
    form = page.locator("[data-testid=add-identity]")
    form.locator("select[name=kind]").select_option("x")
    form.locator("input[name=value]").fill("@Yamada_Taro")
    form.locator("button").click()
    warning = page.locator("[data-testid=same-person-warning]")
    warning.wait_for()
    assert "『山田 太郎』の連絡先です（本人確認前）" in warning.inner_text()
    assert "yamada_taro" not in page.locator("[data-testid=identities]").inner_text()
    screenshot(page, "customer-identity-claimed")

    warning.locator("input[name=note]").fill("Xのダイレクトメッセージで直近の注文番号を確認")
    warning.locator("button", has_text="統合する").click()
    page.wait_for_url(f"**/customers/{holder.pk}/")
    contacts = page.locator("[data-testid=identities]").inner_text()
    assert LINE_ID in contacts and "yamada_taro" in contacts
    assert "LINE: お皿が欠けていました" in page.content()
    assert Customer.objects.get(pk=customer.pk).merged_into_id == holder.pk
    screenshot(page, "customer-identity-merged")
