"""End to end in Chromium (issue 22, items 1 and 6): an agent sets 離席 in the top bar and the
lead sees it on the team page; a reply template with a macro sets the case's fields in one click."""

from __future__ import annotations

import pytest

from madoguchi.accounts.models import Role
from madoguchi.cases.models import Case, Category, Commitment, Status
from madoguchi.conftest import login, screenshot
from madoguchi.knowledge.models import ReplyTemplate
from madoguchi.testing.factories import CaseFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("shop_open")]


@pytest.fixture
def staff():
    lead = UserFactory(username="sato", display_name="佐藤 花子", role=Role.LEAD)
    team = TeamFactory(name="お客様サポート課", lead=lead)
    agent = UserFactory(username="tanaka", display_name="田中 健太", team=team)
    return {"lead": lead, "team": team, "agent": agent}


def test_status_in_the_top_bar_is_shown_to_the_lead(new_page, staff):
    agent = new_page()
    login(agent, "tanaka")
    agent.select_option("[data-testid=availability]", "away")
    agent.wait_for_load_state()
    assert "状況を「離席」にしました" in agent.locator(".messages").inner_text()
    lead = new_page()
    login(lead, "sato")
    lead.click("header nav summary:has-text('管理')")
    lead.click("header nav a[href='/settings/team/']")
    row = lead.locator("[data-testid=member-tanaka]")
    assert "離席" in row.inner_text()
    screenshot(lead, "e2e-team-status")


def test_a_macro_template_sets_status_category_assignee_and_a_promise_in_one_click(new_page, staff):
    case = CaseFactory(assignee=None, team=staff["team"], status=Status.NEW, channel="phone", subject="割れたマグカップ")
    ReplyTemplate.objects.create(
        name="物流部に確認します", body="{{ customer.name }}様\n物流部に確認のうえ、ご連絡いたします。",
        set_status=Status.WAITING_DEPT, set_category=Category.objects.get(code="defect"), assign_to_sender=True,
        promise="物流部に確認し、結果をお電話でご連絡する", promise_business_hours=2,
    )
    page = new_page()
    login(page, "tanaka")
    page.goto(f"/cases/{case.pk}/")
    page.select_option("#kb-template", label="[Alt+1] 物流部に確認します")
    page.click("#kb-insert-template")
    note = page.locator("[data-testid=macro-note]")
    assert "状態: 他部署の回答待ち" in note.inner_text() and "営業時間で2時間後" in note.inner_text()
    page.click("#reply button.primary")
    page.wait_for_url(f"**/cases/{case.pk}/")
    assert "テンプレートの設定も反映しました" in page.locator(".messages").inner_text()
    screenshot(page, "e2e-macro-applied")
    case = Case.objects.get(pk=case.pk)
    assert case.status == Status.WAITING_DEPT and case.category.code == "defect" and case.assignee == staff["agent"]
    assert Commitment.objects.get(case=case).description == "物流部に確認し、結果をお電話でご連絡する"
