"""End to end in Chromium, two people in two browser contexts (issue 22 item 9): the agent puts
the status-page link into a reply, the customer opens it from their mail without logging in and
sees the promise; the worker prepares a late notice, the agent approves it in one click, and the
customer's page and mailbox show the new time."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from madoguchi.cases import services as case_services
from madoguchi.cases.models import Channel, Commitment, InteractionKind, Status
from madoguchi.conftest import login, screenshot
from madoguchi.customers.models import Identity, IdentityKind
from madoguchi.mail.models import OutboundMessage
from madoguchi.progress.services import jst, prepare_late_notices
from madoguchi.progress.tasks import prepare_late_notices_job
from madoguchi.testing.factories import CaseFactory, CustomerFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

URL = re.compile(r"https?://[^\s]+/status/[^\s/]+/")


def mailbox(address: str) -> list[str]:
    """What reached the customer's address (the outbox; the sender hands it to SMTP)."""
    return list(OutboundMessage.objects.filter(to_address=address).order_by("id").values_list("body", flat=True))


def test_the_customer_follows_the_promise_and_the_agent_approves_the_late_notice(new_page, live_server, settings, shop_open):
    settings.SITE_URL = live_server.url
    team = TeamFactory(name="お客様サポート課")
    agent = UserFactory(username="tanaka", display_name="田中 健太", team=team)
    customer = CustomerFactory(name="山田 太郎")
    Identity.objects.create(customer=customer, kind=IdentityKind.EMAIL, value="yamada@example.jp")
    case = CaseFactory(customer=customer, assignee=agent, team=team, status=Status.OPEN, channel=Channel.EMAIL,
                       subject="【社内】倉庫の出荷ミス？")
    promise = case_services.do_add_commitment(case, actor=agent, description="交換品の発送日をメールでお知らせします",
                                              due_at=timezone.now() + dt.timedelta(hours=3))
    case_services.do_add_commitment(case, actor=agent, description="倉庫に在庫を確認する", internal=True,
                                    due_at=timezone.now() + dt.timedelta(hours=3))
    case_services.do_add_interaction(case, actor=agent, kind=InteractionKind.NOTE, channel=case.channel,
                                     body="社内メモ: 出荷担当に確認中")

    staff = new_page()
    login(staff, "tanaka")
    staff.goto(f"/cases/{case.pk}/")
    staff.click("[data-testid=make-status-link]")
    url = staff.locator("[data-testid=status-url]").input_value()
    assert URL.fullmatch(url), url
    staff.fill("#reply-body", "山田様\n\nお問い合わせの件、交換品の手配を進めております。進み具合は次のページでご確認いただけます。")
    staff.click("[data-testid=insert-status-url]")
    assert url in staff.locator("#reply-body").input_value()
    staff.click("#reply button.primary")
    staff.wait_for_load_state()

    # The customer, in a browser of their own with no login, follows the link in the mail.
    sent = mailbox("yamada@example.jp")
    assert len(sent) == 1 and url in sent[0]
    customer_page = new_page()
    customer_page.goto(URL.search(sent[0]).group(0))  # type: ignore[union-attr]
    promises = customer_page.locator("[data-testid=promises]")
    assert "交換品の発送日をメールでお知らせします" in promises.inner_text()
    due = timezone.localtime(promise.due_at)
    assert f"{due.year}年{due.month}月{due.day}日 {due:%H:%M}までに対応いたします" in promises.inner_text()
    text = customer_page.locator("main").inner_text()
    assert "担当者が対応しております。" in text and case.number in text
    for internal in ("倉庫に在庫を確認する", "社内メモ", "出荷担当", "【社内】倉庫の出荷ミス？"):
        assert internal not in text
    screenshot(customer_page, "e2e-progress-customer")

    # The promise will be late: the worker prepares a notice; nothing reaches the customer yet.
    Commitment.objects.filter(pk=promise.pk).update(created_at=timezone.now() - dt.timedelta(hours=20))
    assert prepare_late_notices_job.call_local() == 1
    assert prepare_late_notices() == 0
    assert len(mailbox("yamada@example.jp")) == 1

    staff.goto("/")
    staff.click("[data-testid=inbox-late-notices] a")
    staff.click(f'a[href="/cases/{case.pk}/#progress"]')
    notice = staff.locator("[data-testid=late-notice]")
    new_due = timezone.localtime(timezone.now() + dt.timedelta(days=2)).replace(hour=17, minute=0, second=0, microsecond=0)
    notice.locator("input[type=datetime-local]").fill(new_due.strftime("%Y-%m-%dT%H:%M"))
    screenshot(staff, "e2e-progress-late-notice")
    notice.locator("[data-testid=approve-late-notice]").click()
    staff.locator(".messages li").filter(has_text="遅れのお知らせをお客様に送りました。").first.wait_for()
    assert staff.locator("[data-testid=late-notice]").count() == 0

    sent = mailbox("yamada@example.jp")
    assert len(sent) == 2
    assert "お約束の日時に間に合わない見込みとなりました" in sent[1] and f"新しいご連絡の予定: {jst(new_due)}" in sent[1]
    customer_page.reload()
    changed = customer_page.locator("[data-testid=new-due]").inner_text()
    assert f"{new_due.year}年{new_due.month}月{new_due.day}日 17:00までにご連絡いたします" in changed
    assert "お約束の日時に間に合わない見込みとなりました" in customer_page.locator("main").inner_text()
    screenshot(customer_page, "e2e-progress-customer-late")

    # A tampered link is a Japanese page, not an error.
    customer_page.goto(url[:-3] + "xx/")
    assert "このページは見つかりませんでした" in customer_page.locator("main").inner_text()
