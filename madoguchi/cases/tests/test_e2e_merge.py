"""End to end in Chromium (issue 22, item 4): an agent merges a customer's phone case into their
mail case from the case page, sees both timelines in one, undoes the merge, and links a case of
another customer hit by the same delivery delay."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from madoguchi.cases.models import Case, CaseLink, Channel, Commitment, InteractionKind, Status
from madoguchi.conftest import login, screenshot
from madoguchi.testing.factories import (
    CaseFactory,
    CustomerFactory,
    InteractionFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("shop_open")]


def test_merge_then_undo_then_link(new_page):
    team = TeamFactory(name="お客様サポート課")
    agent = UserFactory(username="tanaka", display_name="田中 健太", team=team)
    customer = CustomerFactory(name="山田 花子")
    now = timezone.now()
    target = CaseFactory(customer=customer, subject="急須がまだ届きません", status=Status.OPEN, assignee=agent, team=team,
                         received_at=now - dt.timedelta(hours=30))
    source = CaseFactory(customer=customer, subject="お電話: 配送の件", channel=Channel.PHONE, status=Status.OPEN,
                         assignee=agent, team=team, received_at=now - dt.timedelta(hours=20))
    InteractionFactory(case=target, occurred_at=now - dt.timedelta(hours=30), body="11月20日に注文した急須がまだ届きません。")
    InteractionFactory(case=source, occurred_at=now - dt.timedelta(hours=20), channel=Channel.PHONE,
                       body="（受電）昨日メールした件で電話しました。")
    InteractionFactory(case=target, occurred_at=now - dt.timedelta(hours=10), kind=InteractionKind.OUTBOUND, author=agent,
                       body="配送業者に確認いたします。")
    Commitment.objects.create(case=source, description="本日17時までに配送状況をお電話する", owner=agent,
                              due_at=now + dt.timedelta(hours=5), created_by=agent)
    elsewhere = CaseFactory(customer=CustomerFactory(name="佐藤 一郎"), subject="同じく配送遅延", status=Status.OPEN)

    page = new_page()
    errors: list[str] = []  # a CSP violation is logged as a console error (the live server has no sockets)
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "WebSocket" not in message.text else None)
    login(page, "tanaka")
    page.goto(f"/cases/{source.pk}/")
    page.click("[data-testid=merge-open]")
    page.wait_for_selector("#merge select[name=mg-target]")
    page.select_option("#merge select[name=mg-target]", str(target.pk))
    page.check("#merge input[name=mg-confirm]")
    page.click("#merge button.primary")
    page.wait_for_url(f"**/cases/{target.pk}/")
    assert f"案件 #{source.pk} を案件 #{target.pk} に統合しました" in page.locator(".messages").inner_text()
    timeline = page.locator("ol.timeline").inner_text()
    assert timeline.index("11月20日に注文した急須") < timeline.index("（受電）昨日メールした件") < timeline.index("配送業者に確認いたします")
    assert "本日17時までに配送状況をお電話する" in page.locator("#commitments").inner_text()
    screenshot(page, "e2e-merged")

    assert not errors, errors
    page.goto(f"/cases/{source.pk}/")  # the merged case leads to the one it went into
    page.wait_for_url(f"**/cases/{target.pk}/")
    assert "に統合されました" in page.locator(".messages").inner_text()

    page.click("[data-testid=undo-merge]")
    page.wait_for_url(f"**/cases/{source.pk}/")
    assert "統合を取り消しました" in page.locator(".messages").inner_text()
    assert "（受電）昨日メールした件で電話しました。" in page.locator("ol.timeline").inner_text()
    assert "11月20日に注文した急須" not in page.locator("ol.timeline").inner_text()
    assert Case.objects.get(pk=source.pk).status == Status.OPEN

    page.click("[data-testid=link-open]")
    page.wait_for_selector("#link-add input[name=ln-number]")
    page.fill("#link-add input[name=ln-number]", f"#{elsewhere.pk}")
    page.fill("#link-add input[name=ln-note]", "11月21日 関東の配送遅延")
    page.click("#link-add button.primary")
    page.wait_for_url(f"**/cases/{source.pk}/")
    assert "11月21日 関東の配送遅延" in page.locator(f"[data-testid=link-{elsewhere.pk}]").inner_text()
    screenshot(page, "e2e-linked")
    page.goto(f"/cases/{elsewhere.pk}/")
    assert page.locator(f"[data-testid=link-{source.pk}]").count() == 1
    page.click("[data-testid=unlink]")
    page.wait_for_url(f"**/cases/{elsewhere.pk}/")
    assert "リンクを外しました" in page.locator(".messages").inner_text()
    assert not CaseLink.objects.exists()
    assert not errors, errors
