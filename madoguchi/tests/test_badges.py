"""Badges: several capped counts in one statement; the navigation bar's badges on every desk
page, and no badge statement at all for the case page's htmx fragments."""

from __future__ import annotations

import hashlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from madoguchi import badges
from madoguchi.cases.models import Case
from madoguchi.chat.models import ChatSession, SessionState
from madoguchi.mail.models import RawMessage, RawState
from madoguchi.notifications.models import Notification
from madoguchi.testing.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_several_counts_are_read_in_one_statement():
    agent = UserFactory()
    CaseFactory.create_batch(3, assignee=agent)
    CaseFactory()
    with CaptureQueriesContext(connection) as captured:
        counts = badges.capped_counts({
            "mine": Case.objects.filter(assignee=agent),
            "all": Case.objects.all(),
            "nothing": Case.objects.none(),  # a queryset that can match nothing costs no subquery
        })
    assert counts == {"mine": 3, "all": 4, "nothing": 0}
    assert len(captured) == 1


def test_a_count_stops_at_the_cap():
    CaseFactory.create_batch(4)
    assert badges.capped_counts({"all": Case.objects.all()}, cap=3) == {"all": 3}
    assert badges.label(3, cap=3) == "3+"
    assert badges.label(2, cap=3) == "2"
    assert badges.label(0) == ""  # no badge at all for nothing


def _failed_mail(n: int) -> RawMessage:
    raw = f"Subject: 壊れたメール {n}\r\n\r\n本文".encode()
    return RawMessage.objects.create(source="smtp", raw=raw, size=len(raw), sha256=hashlib.sha256(raw).hexdigest(),
                                     content_hash=str(n), state=RawState.FAILED)


def test_the_navigation_bar_shows_each_badge_from_one_statement(client):
    agent = UserFactory()
    client.force_login(agent)
    Notification.objects.create(user=agent, kind="overdue", message="約束の期限を過ぎました")
    Notification.objects.create(user=agent, kind="overdue", message="既読の通知", read_at=timezone.now())
    Notification.objects.create(user=UserFactory(), kind="overdue", message="他の人への通知")
    case = CaseFactory()
    ChatSession.objects.create(case=case, state=SessionState.WAITING, customer_first_message_at=timezone.now())
    ChatSession.objects.create(state=SessionState.WAITING)  # opened the widget, wrote nothing yet
    _failed_mail(1), _failed_mail(2)
    with CaptureQueriesContext(connection) as captured:
        page = client.get("/").content.decode()
    assert '<span class="badge alert" data-testid="notification-count">1</span>' in page
    assert '<span class="badge alert" data-testid="chat-waiting-count">1</span>' in page
    assert '<span class="badge alert" data-testid="mail-failed-count">2</span>' in page
    badge_statements = [q for q in captured if "notifications_notification" in q["sql"]]
    assert len(badge_statements) == 1
    assert "chat_chatsession" in badge_statements[0]["sql"] and "mail_rawmessage" in badge_statements[0]["sql"]


def test_no_badge_statement_for_a_fragment_of_the_case_page(client):
    agent = UserFactory()
    client.force_login(agent)
    case = CaseFactory(assignee=agent)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/cases/{case.pk}/parts/compensation/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert not [q for q in captured if "notifications_notification" in q["sql"]]


def test_the_inbox_asks_for_waiting_chats_only_when_some_wait(client):
    agent = UserFactory()
    client.force_login(agent)
    client.get("/")  # fills the per-process filter lists
    with CaptureQueriesContext(connection) as captured:
        page = client.get("/").content.decode()
    assert "待機中のチャットはありません。" in page
    assert not [q for q in captured if q["sql"].startswith('SELECT "chat_chatsession"')]
    ChatSession.objects.create(case=CaseFactory(subject="商品が届きません"), state=SessionState.WAITING,
                               customer_first_message_at=timezone.now())
    assert "商品が届きません" in client.get("/").content.decode()
