"""End to end in Chromium (issue 22 item 3): a team lead creates a tag, tags two cases on their
pages, filters the inbox by it, saves that view for the team, selects the two cases and assigns
them to an agent in one bulk action."""

from __future__ import annotations

import pytest

from madoguchi.accounts.models import Role
from madoguchi.cases.models import AuditEvent, Case, CaseTag, SavedView, Status, Tag
from madoguchi.conftest import login, screenshot
from madoguchi.testing.factories import CaseFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("shop_open")]


def test_tag_filter_save_view_and_bulk_assign(new_page):
    lead = UserFactory(username="sato", display_name="佐藤 花子", role=Role.LEAD)
    team = TeamFactory(name="お客様サポート課", lead=lead)
    lead.team = team
    lead.save()
    agent = UserFactory(username="tanaka", display_name="田中 健太", team=team)
    first = CaseFactory(team=team, assignee=None, status=Status.NEW, subject="返品したいです")
    second = CaseFactory(team=team, assignee=None, status=Status.OPEN, subject="サイズ違いの交換希望")
    other = CaseFactory(team=team, assignee=None, status=Status.OPEN, subject="配送が遅れています")

    page = new_page()
    login(page, "sato")
    page.click("header nav summary:has-text('管理')")
    page.click("header nav a:has-text('タグ・独自項目')")
    page.fill("input[name=tag-name]", "返品・交換")
    page.select_option("select[name=tag-colour]", "red")
    page.click("[data-testid=tag-create]")
    assert "タグ「返品・交換」を作りました" in page.locator(".messages").inner_text()
    tag = Tag.objects.get(name="返品・交換")

    for case in (first, second):
        page.goto(f"/cases/{case.pk}/")
        page.select_option("[data-testid=add-tag-select]", label="返品・交換")
        page.click("[data-testid=add-tag]")
        chip = page.locator("#case-labels [data-testid=case-tag]")
        chip.wait_for()
        assert "返品・交換" in chip.inner_text()
    assert CaseTag.objects.filter(tag=tag).count() == 2
    assert AuditEvent.objects.filter(action="tag_added", actor=lead).count() == 2

    page.goto("/?queue=all")
    assert page.locator("#rows [data-testid=select]").count() == 3
    page.select_option("[data-testid=filter-tag]", label="返品・交換")
    page.click("form.filters button:has-text('絞り込む')")
    page.wait_for_url(f"**tag={tag.pk}**")
    rows = page.locator("#rows tr")
    assert page.locator("#rows [data-testid=select]").count() == 2
    assert "配送が遅れています" not in page.locator("#rows").inner_text()
    assert rows.first.locator("[data-testid=tag]").inner_text() == "返品・交換"

    page.click("[data-testid=save-view] summary")
    page.fill("[data-testid=view-name]", "返品・交換の案件")
    page.check("[data-testid=view-shared]")
    page.click("[data-testid=save-view] button")
    assert "ビュー「返品・交換の案件」を保存しました" in page.locator(".messages").inner_text()
    view = SavedView.objects.get(name="返品・交換の案件")
    assert view.team == team and f"tag={tag.pk}" in view.query
    page.goto("/?queue=mine")
    page.click("[data-testid=saved-view]:has-text('返品・交換の案件')")
    page.wait_for_url(f"**tag={tag.pk}**")
    assert page.locator("#rows [data-testid=select]").count() == 2

    page.check(f"#rows [data-testid=select][value^='{first.pk}.']")
    page.check(f"#rows [data-testid=select][value^='{second.pk}.']")
    assert page.locator("#select-all").is_checked()  # every row of the page is ticked
    page.select_option("[data-testid=bulk-action]", "assign")
    page.select_option("[data-testid=bulk-assign]", label="田中 健太")
    screenshot(page, "e2e-inbox-bulk-selected")
    page.click("[data-testid=bulk-apply]")
    summary = page.locator("[data-testid=bulk-summary]")
    assert "完了 2件、できなかったもの 0件" in summary.inner_text()
    assert page.locator("[data-testid=bulk-outcome]").count() == 2
    screenshot(page, "e2e-inbox-bulk-result")
    assert set(Case.objects.filter(pk__in=[first.pk, second.pk]).values_list("assignee", flat=True)) == {agent.pk}
    assert Case.objects.get(pk=other.pk).assignee is None
    assert AuditEvent.objects.filter(action="handed_over", actor=lead).count() == 2
    page.click("[data-testid=bulk-back]")
    page.wait_for_url(f"**tag={tag.pk}**")
