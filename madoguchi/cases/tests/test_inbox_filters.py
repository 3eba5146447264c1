"""The inbox filter dropdowns are kept per process, but never show a stale list after a change."""

from __future__ import annotations

import pytest

from madoguchi.cases.models import Category
from madoguchi.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_new_agent_and_a_renamed_category_show_in_the_filters_at_once(client):
    agent = UserFactory(display_name="佐藤 花子")
    client.force_login(agent)
    assert "佐藤 花子" in client.get("/").content.decode()
    UserFactory(display_name="新人 太郎")
    category = Category.objects.first()
    category.name = "配送（名前を変更）"
    category.save()
    page = client.get("/").content.decode()
    assert "新人 太郎" in page and "配送（名前を変更）" in page


def test_the_chosen_filter_stays_selected(client):
    agent = UserFactory(display_name="佐藤 花子")
    client.force_login(agent)
    page = client.get(f"/?queue=all&assignee={agent.pk}&status=open").content.decode()
    assert f'<option value="{agent.pk}" selected>佐藤 花子</option>' in page
    assert '<option value="open" selected>' in page


def test_a_hand_typed_cursor_without_a_time_zone_is_read_in_jst():
    import datetime as dt
    import warnings

    from madoguchi.cases.queues import decode_cursor

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        moment, pk = decode_cursor("2026-01-01T00:00:00|1") or (None, None)
    assert pk == 1 and moment is not None and moment.utcoffset() == dt.timedelta(hours=9)


def test_the_resolved_queue_shows_when_each_case_was_resolved(client):
    import datetime as dt

    from django.utils import timezone

    from madoguchi.testing.factories import CaseFactory, UserFactory

    agent = UserFactory()
    received = timezone.now() - dt.timedelta(days=3)
    resolved = timezone.now() - dt.timedelta(hours=2)
    CaseFactory(assignee=agent, status="resolved", received_at=received, resolved_at=resolved)
    client.force_login(agent)
    body = client.get("/?queue=resolved").content.decode()
    assert "解決日時" in body
    shown = timezone.localtime(resolved)
    shown_received = timezone.localtime(received)
    today = timezone.localdate()
    assert (shown.strftime("%H:%M") if shown.date() == today else shown.strftime("%m/%d %H:%M")) in body
    assert shown_received.strftime("%m/%d %H:%M") not in body
