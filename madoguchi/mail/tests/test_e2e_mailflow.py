"""End to end in Chromium (issue 22 item 5): a new agent's reply waits for the lead, two people in
two browser contexts (the agent writes with a CC, the lead returns it with a comment, the agent
fixes and resubmits, the lead approves: the customer's mail server gets it once, with the CC);
and one agent's day with mail: a reply with CC and BCC, a reply scheduled for 翌営業日, and the
case forwarded to another department whose answer joins the case by itself."""

from __future__ import annotations

import email
from email.message import Message
from email.utils import make_msgid
from typing import Any

import pytest
from playwright.sync_api import expect

from madoguchi.accounts.models import Role, Team
from madoguchi.cases.models import Case, InteractionKind, Status
from madoguchi.conftest import login, screenshot
from madoguchi.mail.ingest import do_ingest_raw
from madoguchi.mail.models import (
    Department,
    Forward,
    HeldReply,
    HeldState,
    Mailbox,
    OutboundKind,
    OutboundMessage,
)
from madoguchi.mail.tests.conftest import Sink, wait_for
from madoguchi.mail.tests.helpers import japanese_mail
from madoguchi.testing.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("shop_open")]


def setup_desk(*, flagged: bool) -> tuple[Case, Any, Any]:
    mailbox = Mailbox.objects.create(name="こもれび堂 カスタマーサポート", address="support@shop.example.jp", shop_name="こもれび堂",
                                     contact_address="info@komorebi.example.jp")
    lead = UserFactory(username="lead-e2e", display_name="佐藤 リーダー", role=Role.LEAD, email="lead@shop.example.jp")
    team = Team.objects.create(name="お客様窓口", lead=lead)
    lead.team = team
    lead.save()
    agent = UserFactory(username="newbie-e2e", display_name="田中 新人", team=team, email="newbie@shop.example.jp",
                        replies_need_approval=flagged)
    row, _created = do_ingest_raw(japanese_mail(subject="急須が届きません", body="12月1日に注文した急須がまだ届きません。",
                                                message_id="<first-e2e@example.jp>"), "smtp", mailbox)
    case = wait_for(lambda: Case.objects.filter(raw_mails__pk=row.pk).first())
    Case.objects.filter(pk=case.pk).update(team=team)
    return case, agent, lead


def to_customer(sink: Sink) -> list[tuple[list[str], Message]]:
    found = [(rcpts, email.message_from_bytes(raw)) for rcpts, raw in sink.envelopes]
    return [(rcpts, m) for rcpts, m in found if "taro@example.jp" in rcpts and m["Auto-Submitted"] is None]


def test_the_lead_returns_then_approves_a_new_agents_reply_in_two_browsers_and_it_goes_once(new_page, smtp_sink) -> None:
    case, agent, lead = setup_desk(flagged=True)
    writer, approver = new_page(), new_page()
    login(writer, agent.username)
    login(approver, lead.username)

    writer.goto(f"/cases/{case.pk}/")
    expect(writer.locator("[data-testid=needs-approval-note]")).to_contain_text("リーダーが承認してから送信されます")
    writer.fill("#reply-body", "山田様、本日発送いたします。")
    writer.locator("[data-testid=mail-send-options] summary").click()
    writer.fill("#id_mo-cc", "husband@example.jp")
    writer.click("#reply button.primary")
    expect(writer.locator("body")).to_contain_text("返信をリーダーの承認待ちにしました")
    expect(writer.locator("[data-testid=held-replies] [data-testid=held-state]")).to_have_text("承認待ち")
    assert not to_customer(smtp_sink)

    # The lead, in another browser: the queue of replies to approve.
    approver.goto("/approvals/")
    approver.click("[data-testid=reply-approvals]")
    card = approver.locator("article[data-testid^=approval-]")
    expect(card.locator("[data-testid=approval-body]")).to_have_text("山田様、本日発送いたします。")
    expect(card).to_contain_text("husband@example.jp")
    card.locator("textarea").fill("お詫びの一文を先に入れてください。")
    card.locator("[data-testid=return]").click()
    expect(approver.locator("[data-testid=no-approvals]")).to_be_visible()

    # The agent sees the comment, fixes the reply and sends it back for approval.
    writer.goto(f"/cases/{case.pk}/")
    expect(writer.locator("[data-testid=held-comment]")).to_contain_text("お詫びの一文を先に入れてください。")
    screenshot(writer, "e2e-mailflow-returned")
    writer.click("[data-testid=held-edit]")
    held = HeldReply.objects.get()
    writer.fill(f"#id_hr{held.pk}-body", "山田様、ご迷惑をおかけし申し訳ございません。本日発送いたします。")
    writer.click("[data-testid=held-save]")
    expect(writer.locator("[data-testid=held-replies] [data-testid=held-state]")).to_have_text("承認待ち")

    approver.goto("/mail/approvals/")
    expect(approver.locator("[data-testid=approval-body]")).to_contain_text("ご迷惑をおかけし申し訳ございません")
    screenshot(approver, "e2e-mailflow-approvals")
    approver.click("[data-testid=approve]")
    expect(approver.locator("body")).to_contain_text("返信を承認しました")

    sent = wait_for(lambda: to_customer(smtp_sink))
    assert len(sent) == 1
    rcpts, message = sent[0]
    assert sorted(rcpts) == ["husband@example.jp", "taro@example.jp"] and message["Cc"] == "husband@example.jp"
    assert message["Reply-To"] == "info@komorebi.example.jp"
    writer.goto(f"/cases/{case.pk}/")
    entry = writer.locator("li.entry.k-outbound")
    expect(entry).to_contain_text("ご迷惑をおかけし申し訳ございません")
    expect(entry.locator("[data-testid=mail-cc]")).to_have_text("husband@example.jp")
    expect(writer.locator("[data-testid=held-replies]")).to_have_count(0)
    assert len(to_customer(smtp_sink)) == 1


def test_an_agent_replies_with_cc_and_bcc_schedules_one_and_forwards_the_case_to_a_department(new_page, smtp_sink) -> None:
    case, agent, _lead = setup_desk(flagged=False)
    Department.objects.create(name="配送課", address="haiso@shop.example.jp")
    page = new_page()
    login(page, agent.username)
    page.goto(f"/cases/{case.pk}/")

    # A bad CC: refused in Japanese, the reply kept as typed.
    page.fill("#reply-body", "山田様、お問い合わせありがとうございます。配送状況を確認いたします。")
    page.locator("[data-testid=mail-send-options] summary").click()
    page.fill("#id_mo-cc", "husband(at)example.jp")
    page.fill("#id_mo-bcc", "quality@shop.example.jp")
    page.click("#reply button.primary")
    expect(page.locator(".has-error")).to_contain_text("メールアドレスとして正しくありません")
    assert page.input_value("#reply-body") == "山田様、お問い合わせありがとうございます。配送状況を確認いたします。"
    page.fill("#id_mo-cc", "husband@example.jp")
    page.click("#reply button.primary")
    entry = page.locator("li.entry.k-outbound")
    expect(entry.locator("[data-testid=mail-bcc]")).to_have_text("quality@shop.example.jp")
    rcpts, message = wait_for(lambda: to_customer(smtp_sink))[0]
    assert "quality@shop.example.jp" in rcpts and message["Bcc"] is None and message["Cc"] == "husband@example.jp"

    # A second reply for the next business morning: held, shown with its time, not sent.
    page.fill("#reply-body", "山田様、配送業者からの回答をお知らせいたします。")
    page.locator("[data-testid=mail-send-options] summary").click()
    page.select_option("#id_mo-when", "next_business")
    page.click("#reply button.primary")
    expect(page.locator("[data-testid=held-replies] [data-testid=held-state]")).to_have_text("送信予定")
    assert HeldReply.objects.get().state == HeldState.SCHEDULED
    assert len(to_customer(smtp_sink)) == 1

    # Forwarded to 配送課: the case waits for them; their answer (by mail) joins it by itself.
    page.locator("[data-testid=forward-open] summary").click()
    page.select_option("#id_fw-department", label="配送課 <haiso@shop.example.jp>")
    page.fill("#id_fw-note", "12月1日注文分の配送状況を確認してください。")
    page.click("[data-testid=forward-open] [data-testid=forward-send]")
    expect(page.locator(".case-head .status")).to_have_text("他部署の回答待ち")
    page.goto("/?queue=waiting_dept")
    expect(page.locator(f'a[href="/cases/{case.pk}/"]').first).to_be_visible()

    out = wait_for(lambda: OutboundMessage.objects.filter(kind=OutboundKind.FORWARD, state="sent").first())
    forward = Forward.objects.get()
    answer = japanese_mail(subject=f"Re: {out.subject}", sender="haiso@shop.example.jp", name="配送課 高橋",
                           body="12月8日に再発送済みです（伝票 1234-5678-9012）。", message_id=make_msgid(domain="shop.example.jp"),
                           headers={"In-Reply-To": out.message_id, "References": out.message_id})
    do_ingest_raw(answer, "smtp", Mailbox.objects.get())
    wait_for(lambda: Forward.objects.filter(pk=forward.pk, answered_at__isnull=False).exists())
    page.goto(f"/cases/{case.pk}/")
    expect(page.locator(".case-head .status")).to_have_text("対応中")
    expect(page.locator("li.entry.k-note")).to_contain_text("伝票 1234-5678-9012")
    page.locator("[data-testid=forward-open] summary").click()
    expect(page.locator("[data-testid=forward-answered]")).to_be_visible()
    screenshot(page, "e2e-mailflow-forward-answered")
    assert Case.objects.get(pk=case.pk).status == Status.OPEN
    assert case.interactions.filter(kind=InteractionKind.NOTE).count() == 1
