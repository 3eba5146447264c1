"""The inbox shows when each case last changed and which channel it came by (issue 22 item 3)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from madoguchi.cases.models import Case
from madoguchi.testing.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


def _row(body: str, pk: int) -> str:
    match = re.search(rf'<tr class="prio-\d">(?:(?!</tr>).)*?#{pk}</a>.*?</tr>', body, re.S)
    assert match, f"no row for #{pk}"
    return match.group(0)


def test_each_row_shows_its_last_update_in_jst(client):
    agent = UserFactory()
    case = CaseFactory(assignee=agent, status="open")
    earlier = dt.datetime(2025, 3, 4, 1, 5, tzinfo=dt.UTC)  # 10:05 JST on 3/4
    Case.objects.filter(pk=case.pk).update(updated_at=earlier)
    client.force_login(agent)
    body = client.get("/?queue=mine").content.decode()
    assert "最終更新" in body
    assert 'data-testid="updated">2025/03/04 10:05<' in _row(body, case.pk)


def test_a_case_changed_today_shows_only_the_time(client):
    agent = UserFactory()
    case = CaseFactory(assignee=agent, status="open")
    client.force_login(agent)
    body = client.get("/?queue=mine").content.decode()
    now = timezone.localtime(Case.objects.get(pk=case.pk).updated_at)
    assert f'data-testid="updated">{now:%H:%M}<' in _row(body, case.pk)


@pytest.mark.parametrize(("channel", "label"), [("line", "LINE"), ("email", "メール"), ("x", "X"), ("phone", "電話")])
def test_each_row_shows_its_channel_as_an_icon_with_a_label(client, channel, label):
    agent = UserFactory()
    case = CaseFactory(assignee=agent, status="open", channel=channel)
    client.force_login(agent)
    row = _row(client.get("/?queue=mine").content.decode(), case.pk)
    assert f'class="ch ch-{channel}" role="img" title="{label}" aria-label="{label}"' in row
