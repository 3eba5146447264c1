"""End to end in Chromium: an agent resolves a case, the customer answers the survey with 2
on a phone-sized page, the lead sees the follow-up task, and the dashboard changes."""

from __future__ import annotations

import pytest

from madoguchi.accounts.models import Role
from madoguchi.cases import services
from madoguchi.conftest import login, screenshot
from madoguchi.metrics.models import FollowUp, Survey, SurveyOptions
from madoguchi.metrics.tasks import send_due_surveys_job
from madoguchi.testing.factories import IdentityFactory, TeamFactory, UserFactory, category

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_resolve_answer_two_follow_up_and_dashboard(new_page):
    lead = UserFactory(username="sato", display_name="佐藤 花子", role=Role.LEAD)
    team = TeamFactory(name="お客様サポート課", lead=lead)
    lead.team = team
    lead.save()
    agent = UserFactory(username="tanaka", display_name="田中 健太", team=team)
    case = services.do_create_case(
        actor=agent, customer=IdentityFactory().customer, subject="届いたマグカップが割れていた", channel="email",
        category=category("defect"), complaint="割れていました。", assignee=agent,
    )
    services.do_send_reply(case, actor=agent, body="申し訳ございません。交換品をお送りします。")

    # The lead's dashboard before: no survey answer yet.
    boss = new_page()
    login(boss, "sato")
    boss.goto("/metrics/")
    assert boss.inner_text("[data-testid=value-csat]") == "—"

    # 1. The agent resolves the case on its page; the survey waits for the shop's delay (set to
    # 0 hours here), then the minute job sends it and the case page shows its link.
    SurveyOptions.objects.create(delay_hours=0)
    desk = new_page()
    login(desk, "tanaka")
    desk.goto(f"/cases/{case.pk}/")
    assert desk.locator("[data-testid=sla-timer]").count() == 1
    desk.click("#record-edit summary")
    desk.select_option("select[name=edit-status]", "resolved")
    desk.click("#record-edit button[name=save]")
    desk.wait_for_selector("[data-testid=survey-waiting]")
    assert send_due_surveys_job.call_local() == 1
    desk.reload()
    desk.wait_for_selector("[data-testid=survey-link]")
    link = desk.input_value("[data-testid=survey-link]")
    assert "SLA一時停止中" in desk.inner_text("[data-testid=sla-timer]")  # resolved: clocks stopped
    screenshot(desk, "metrics-case-page-resolved")
    assert Survey.objects.filter(case=case).exists()

    # 2. The customer opens the link on a phone, without logging in, and answers 2.
    customer = new_page()
    customer.set_viewport_size({"width": 390, "height": 844})
    customer.goto("/metrics/" + link.split("/metrics/", 1)[1])  # SITE_URL differs from the live server
    customer.wait_for_selector("text=対応についてのアンケート")
    customer.click("label:has(input[name=rating][value='2'])")
    customer.fill("textarea[name=comment]", "返信が遅く、不安でした。")
    screenshot(customer, "metrics-survey-phone")
    customer.click("button.primary")
    customer.wait_for_selector("text=ご回答ありがとうございました")
    # The same link again: a clear page, nothing recorded twice.
    customer.goto("/metrics/" + link.split("/metrics/", 1)[1])  # SITE_URL differs from the live server
    assert "すでにご回答" in customer.inner_text("[data-testid=survey-problem]")

    # 3. The lead sees the follow-up task and a notification.
    boss.goto("/metrics/follow-ups/")
    assert "届いたマグカップが割れていた" in boss.inner_text("[data-testid=follow-ups]")
    assert "返信が遅く" in boss.inner_text("[data-testid=follow-ups]")
    assert boss.locator("[data-testid=notification-count]").count() == 1
    assert FollowUp.objects.get().assigned_to == lead

    # 4. The dashboard changed: one answer of 2 → CSAT 0 %.
    boss.goto("/metrics/")
    assert boss.inner_text("[data-testid=value-csat]") == "0.0%"
    assert boss.inner_text("[data-testid=n-csat]") == "n=1"  # one answer: shown with its n, greyed
    boss.wait_for_selector("[data-testid=breakdown-agent] table")
    assert "田中 健太" in boss.inner_text("[data-testid=breakdown-agent]")
    screenshot(boss, "metrics-dashboard-after-survey")
