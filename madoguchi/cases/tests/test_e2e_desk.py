"""End to end in headless Chromium: the case desk as agents and a team lead use it (issue 2)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from madoguchi.accounts.models import AuthorityLimit, Role
from madoguchi.cases.models import Case, CommitmentState, CompensationState
from madoguchi.cases.tasks import escalate_overdue_commitments_job
from madoguchi.conftest import login, screenshot
from madoguchi.notifications.models import Notification
from madoguchi.testing.factories import TeamFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

COMPLAINT = (
    "昨日届いた有田焼のマグカップが割れていました。箱もへこんでいて、配送中に何かあったのだと思います。"
    "来週の母の誕生日に渡すつもりだったので困っています😢"
)


@pytest.fixture
def staff():
    lead = UserFactory(username="sato", display_name="佐藤 花子", role=Role.LEAD)
    team = TeamFactory(name="お客様サポート課", lead=lead)
    lead.team = team
    lead.save()
    first = UserFactory(username="tanaka", display_name="田中 健太", team=team)
    second = UserFactory(username="suzuki", display_name="鈴木 一郎", team=team)
    UserFactory(username="owner", display_name="店長", role=Role.ADMIN)
    AuthorityLimit.objects.create(role=Role.AGENT, max_compensation_yen=3000)
    return {"lead": lead, "team": team, "first": first, "second": second}


def log_phone_complaint(page, due: dt.datetime) -> None:
    page.goto("/cases/new/")
    page.fill("input[name=customer_name]", "山田　太郎")
    page.fill("input[name=customer_kana]", "ヤマダ　タロウ")
    page.fill("input[name=phone]", "０９０－１２３４－５６７８")
    page.fill("input[name=subject]", "届いたマグカップが割れていた")
    page.select_option("select[name=category]", label="商品の不具合")
    page.fill("textarea[name=complaint]", COMPLAINT)
    page.fill("input[name=fact_order_number]", "ORD-2026-001234")
    page.fill("input[name=fact_product]", "有田焼 マグカップ 380ml")
    page.fill("textarea[name=fact_what_happened]", "配達時に外箱がへこみ、中のマグカップの持ち手が欠けていた")
    page.fill("input[name=fact_when]", "11月22日 午前の配達")
    page.fill("textarea[name=solution]", "新しいマグカップを明日発送し、割れた品は着払いで回収する")
    page.fill("textarea[name=landing_point]", "物流部に確認のうえ、明日15時までにお電話で発送をご連絡する")
    for value in ("heard_fully", "apologised", "identity_confirmed", "contradictions_checked"):
        page.check(f"input[name=checklist][value={value}]")
    page.fill("input[name=commitment_description]", "物流部に確認し、発送日をお電話でお知らせする")
    page.fill("input[name=commitment_due_at]", timezone.localtime(due).strftime("%Y-%m-%dT%H:%M"))
    page.click("button.primary.big")
    page.wait_for_url("**/cases/*/")


def test_phone_complaint_promise_handover_escalation_and_approval(new_page, staff):
    tomorrow = timezone.localtime().replace(hour=15, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)

    # 1. An agent logs a phone complaint with every seed 000 field and a promise due tomorrow.
    agent = new_page()
    login(agent, "tanaka")
    log_phone_complaint(agent, tomorrow)
    case = Case.objects.get()
    assert case.complaint == COMPLAINT and case.assignee == staff["first"]
    assert case.channel == "phone" and case.landing_point.startswith("物流部に確認")
    assert agent.locator(".timeline").inner_text().count("割れていました") == 1
    assert "物流部に確認し、発送日をお電話でお知らせする" in agent.locator("#commitments").inner_text()
    assert "田中 健太" in agent.locator(".timeline").inner_text()  # the handling agent of the call

    # 2. A 5,000-yen refund over the agent's 3,000-yen limit waits for the lead.
    agent.click("#compensations summary")
    agent.select_option("select[name=cp-kind]", "refund")
    agent.fill("input[name=cp-amount_yen]", "5000")
    agent.fill("input[name=cp-reason]", "配送中の破損のお詫び")
    agent.click("#compensations button.primary")
    agent.wait_for_selector("text=チームリーダーの承認を待っています")
    assert case.compensations.get().state == CompensationState.PENDING
    screenshot(agent, "desk-case-after-refund-request")

    # 3. The agent hands the case over with a note (the form loads when its section opens).
    agent.click("#handover summary")
    agent.select_option("select[name=ho-to_user]", label="鈴木 一郎")
    agent.fill("textarea[name=ho-note]", "お客様は来週の贈り物に必要。明日15時までに発送日を電話で連絡する約束。")
    agent.click("#handover button.primary")
    agent.wait_for_selector("text=引き継ぎました")

    # 4. The second agent sees the whole history on one page, without asking again.
    second = new_page()
    login(second, "suzuki")
    second.goto(f"/cases/{case.pk}/")
    second.wait_for_selector("#case-side[data-loaded] .customer-panel")  # side panels come right after the page
    page_text = second.inner_text("main")
    for expected in (COMPLAINT.split("。")[0], "明日15時までに発送日を電話で連絡する約束", "物流部に確認し、発送日をお電話でお知らせする",
                     "新しいマグカップを明日発送し", "ORD-2026-001234", "承認待ち", "山田　太郎"):
        assert expected in page_text, expected
    assert second.locator("[data-testid=assignee]").inner_text() == "鈴木 一郎"
    screenshot(second, "desk-case-second-agent")
    # The record's edit form arrives when opened, filled with the current record.
    second.click("#record-edit summary")
    assert second.input_value("#record-edit input[name=edit-fact_order_number]") == "ORD-2026-001234"
    screenshot(second, "desk-case-edit-open")

    # 5. The lead approves the refund from the approval queue; nothing was granted before.
    lead = new_page()
    login(lead, "sato")
    lead.goto("/approvals/")
    lead.click("button[value=approve]")
    lead.wait_for_selector("text=判断を記録しました")
    assert case.compensations.get().state == CompensationState.GRANTED

    # 6. The clock passes the due date: the case is in the overdue queue and the lead is told.
    with time_machine.travel(tomorrow + dt.timedelta(hours=3), tick=True):
        escalate_overdue_commitments_job.call_local()
        second.goto("/?queue=promises")
        row = second.locator("table.cases tbody tr", has_text="届いたマグカップが割れていた")
        assert row.locator("[data-testid=due] .overdue").count() == 1
        screenshot(second, "desk-overdue-queue")
        lead.goto("/notifications/")
        assert "期限" in lead.inner_text(".notifications")
        assert lead.locator("[data-testid=notification-count]").count() == 1
    assert Notification.objects.filter(user=staff["lead"], kind="commitment_overdue").count() == 1
    assert case.commitments.get().state == CommitmentState.OPEN


def test_agent_cannot_open_the_admin_settings(new_page, staff):
    agent = new_page()
    login(agent, "tanaka")
    response = agent.goto("/settings/")
    assert response.status == 403
    assert "権限がありません" in agent.inner_text("body")
    assert agent.locator("a[href='/settings/']").count() == 0
    admin = new_page()
    login(admin, "owner")
    assert admin.goto("/settings/").status == 200


def test_inbox_is_japanese_after_login(new_page, staff):
    page = new_page()
    login(page, "tanaka")
    assert "受信箱" in page.inner_text("header")
    assert "自分の案件" in page.inner_text(".queues")
    screenshot(page, "desk-inbox-empty")
