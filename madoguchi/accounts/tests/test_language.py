"""Japanese by default, English when a user switches (Django i18n)."""

from __future__ import annotations

import pytest

from madoguchi.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_desk_is_japanese_by_default(client):
    client.force_login(UserFactory())
    page = client.get("/").content.decode()
    assert "受信箱" in page and "自分の案件" in page
    assert 'lang="ja"' in page


def test_user_can_switch_the_desk_to_english(client):
    client.force_login(UserFactory())
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    page = client.get("/").content.decode()
    assert "Inbox" in page and "My cases" in page and "Promises due today / overdue" in page
    assert 'lang="en"' in page


def test_times_are_shown_in_japan_time(client):
    import datetime as dt

    from madoguchi.testing.factories import CaseFactory

    client.force_login(UserFactory())
    case = CaseFactory(received_at=dt.datetime(2026, 11, 23, 1, 30, tzinfo=dt.UTC))
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "2026/11/23 10:30" in page  # 01:30 UTC is 10:30 JST


def test_a_browser_set_to_english_still_gets_the_japanese_desk_until_the_user_switches(client):
    client.force_login(UserFactory())
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="ja"' in page and "受信箱" in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/"}, HTTP_ACCEPT_LANGUAGE="en-US")
    assert 'lang="en"' in client.get("/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
