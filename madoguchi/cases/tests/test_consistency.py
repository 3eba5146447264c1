"""The same thing looks the same everywhere: broken promises, phone numbers, dates in
notifications, and the 要注意 flag (shown in the inbox, lifted only with a reason, kept in history)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.staticfiles import finders
from django.utils import timezone

from madoguchi.cases.models import AuditEvent, CommitmentState
from madoguchi.cases.services import escalate_overdue_commitments
from madoguchi.customers.models import Identity, IdentityKind
from madoguchi.customers.phones import phone_display
from madoguchi.knowledge import services as knowledge
from madoguchi.knowledge.indexing import reindex
from madoguchi.knowledge.models import Rule
from madoguchi.notifications.models import Notification
from madoguchi.testing.factories import (
    CaseFactory,
    CommitmentFactory,
    CustomerFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():  # type: ignore[no-untyped-def]
    return UserFactory(username="suzuki", display_name="鈴木 一郎")


def test_a_broken_promise_is_a_red_badge_as_visible_as_a_kept_one(client, agent) -> None:
    case = CaseFactory(assignee=agent)
    CommitmentFactory(case=case, description="物流部に確認して折り返す", state=CommitmentState.KEPT)
    CommitmentFactory(case=case, description="本日中に返金する", state=CommitmentState.BROKEN)
    client.force_login(agent)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert re.search(r'<span class="badge broken" data-testid="promise-broken">✕ 守れなかった</span>', page)
    assert re.search(r'<span class="badge kept" data-testid="promise-kept">✓ 守った</span>', page)
    with open(finders.find("madoguchi/desk.css"), encoding="utf-8") as css:  # type: ignore[arg-type]
        assert ".badge.broken { background:#b42318; color:#fff;" in css.read()


@pytest.mark.parametrize(("stored", "shown"), [
    ("0312345678", "03-1234-5678"), ("09012345678", "090-1234-5678"), ("0120123456", "0120-123-456"),
    ("0661234567", "06-6123-4567"), ("0466123456", "0466-12-3456"), ("+14155550100", "+1 415-555-0100"),
    ("12", "12"),
])
def test_phone_numbers_are_shown_as_people_write_them(stored, shown) -> None:
    assert phone_display(stored) == shown


def test_phone_numbers_are_hyphenated_on_the_customer_panel_page_and_search_but_stored_as_digits(client, agent) -> None:
    customer = CustomerFactory(name="山田 太郎")
    Identity.objects.create(customer=customer, kind=IdentityKind.PHONE, value="0312345678")
    case = CaseFactory(customer=customer)
    client.force_login(agent)
    assert "電話: 03-1234-5678" in client.get(f"/cases/{case.pk}/parts/side/").content.decode()
    assert "電話: 03-1234-5678" in client.get(f"/customers/{customer.pk}/").content.decode()
    reindex()
    for query in ("0312345678", "03-1234-5678"):
        hits = client.get("/knowledge/search/", {"q": query, "kind": "customer"}).content.decode()
        snippets = [re.sub(r"</?mark>", "", found) for found in re.findall(r'<div class="kb-snippet">(.*?)</div>', hits)]
        assert snippets == [f"{customer.kana} 03-1234-5678"]  # found by either spelling
    assert Identity.objects.get(customer=customer).value == "0312345678"


def test_notification_dates_are_written_as_every_page_writes_them(client) -> None:
    lead = UserFactory(username="lead", role="lead")
    team = TeamFactory(lead=lead)
    case = CaseFactory(team=team)
    due = timezone.make_aware(dt.datetime(2026, 3, 4, 9, 5))
    CommitmentFactory(case=case, due_at=due)
    escalate_overdue_commitments(now=due + dt.timedelta(hours=1))
    note = Notification.objects.get(user=lead)
    assert "（2026/03/04 09:05）" in note.text
    client.force_login(lead)
    page = client.get("/notifications/").content.decode()
    assert "（2026/03/04 09:05）" in page
    assert f"<time>{timezone.localtime(note.created_at):%Y/%m/%d %H:%M}</time>" in page  # the list's own column


def flag(customer, actor, case=None):  # type: ignore[no-untyped-def]
    version = knowledge.version_in_force(Rule.objects.get(code="abusive"), timezone.localdate())
    return knowledge.do_flag_customer(customer, actor=actor, rule_version=version, reason="電話で1時間、大声で全額返金と慰謝料を要求", case=case)


def test_inbox_row_marks_a_flagged_customer(client, agent) -> None:
    flagged = CaseFactory(customer=CustomerFactory(name="加藤 恵子"), assignee=agent, subject="返金しろ")
    calm = CaseFactory(customer=CustomerFactory(name="中村 由美"), assignee=agent, subject="色違い")
    flag(flagged.customer, agent, flagged)
    client.force_login(agent)
    page = client.get("/?queue=mine").content.decode()
    row = {m.group(1): m.group(0) for m in re.finditer(r'<tr class="prio-\d">.*?#(\d+).*?</tr>', page, re.S)}
    assert 'data-testid="customer-flag">⚠ 要注意</span> 加藤 恵子' in row[str(flagged.pk)]
    assert "customer-flag" not in row[str(calm.pk)]


def test_a_flag_is_cleared_only_with_a_reason_and_stays_in_the_customers_history(client, agent) -> None:
    case = CaseFactory(assignee=agent)
    raised = flag(case.customer, agent, case)
    client.force_login(agent)
    response = client.post(f"/knowledge/flags/{raised.pk}/clear/", {"reason": "  ", "case": case.pk}, follow=True)
    assert "解除する理由を入力してください" in response.content.decode()
    assert knowledge.active_flags(case.customer) == [raised]

    lead = UserFactory(username="sato", display_name="佐藤 花子", role="lead")
    client.force_login(lead)
    response = client.post(f"/knowledge/flags/{raised.pk}/clear/", {"reason": "録音を確認し、誤解と分かった。要求も取り下げられた。", "case": case.pk})
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    raised.refresh_from_db()
    assert raised.cleared_by == lead and raised.cleared_at is not None
    assert knowledge.active_flags(case.customer) == []
    assert AuditEvent.objects.filter(case=case, actor=lead, action="customer_flag_cleared").exists()
    assert "customer-flag" not in client.get("/?queue=all").content.decode()
    history = client.get(f"/customers/{case.customer_id}/").content.decode()
    assert "解除済み" in history and "電話で1時間、大声で全額返金と慰謝料を要求" in history
    assert re.search(r"解除: 佐藤 花子 \d{4}/\d\d/\d\d \d\d:\d\d ・ 理由: 録音を確認し、誤解と分かった。", history)
    assert "要注意の記録を解除" in client.get(f"/cases/{case.pk}/").content.decode()  # the case's change history
    again = client.post(f"/knowledge/flags/{raised.pk}/clear/", {"reason": "二度目"}, follow=True)
    assert "すでに解除されています" in again.content.decode()
