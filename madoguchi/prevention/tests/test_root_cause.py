"""Root cause on a case: set from the case page by its assignee, its team's lead or an admin,
audited on the case (old → new); anyone else is refused and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest

from madoguchi.cases.models import AuditEvent
from madoguchi.cases.services import CaseError
from madoguchi.prevention.models import CaseRootCause
from madoguchi.prevention.services import do_set_root_cause
from madoguchi.testing.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(people: dict[str, Any]) -> Any:
    return CaseFactory(assignee=people["agent"], team=people["team"], subject="置き配で濡れた")


def test_the_assignee_records_a_root_cause_and_every_change_is_audited(case: Any, people: dict[str, Any]) -> None:
    do_set_root_cause(case, actor=people["agent"], cause="carrier", note="雨の日も置き配にされた")
    row = CaseRootCause.objects.get(case=case)
    assert (row.cause, row.note, row.set_by) == ("carrier", "雨の日も置き配にされた", people["agent"])
    event = AuditEvent.objects.get(case=case, action="root_cause_set")
    assert event.actor == people["agent"]
    assert event.changes == {"cause": ["", "carrier"], "note": ["", "雨の日も置き配にされた"]}

    do_set_root_cause(case, actor=people["lead"], cause="shop", note="雨の日も置き配にされた")  # the team's lead
    latest = AuditEvent.objects.filter(case=case, action="root_cause_set").latest("id")
    assert latest.actor == people["lead"] and latest.changes == {"cause": ["carrier", "shop"]}
    do_set_root_cause(case, actor=people["lead"], cause="shop", note="雨の日も置き配にされた")  # no change: no entry
    assert AuditEvent.objects.filter(case=case, action="root_cause_set").count() == 2

    do_set_root_cause(case, actor=people["admin"], cause="")
    assert not CaseRootCause.objects.filter(case=case).exists()
    assert AuditEvent.objects.get(case=case, action="root_cause_cleared").changes["cause"] == ["shop", ""]


@pytest.mark.parametrize("who", ["other", "other_lead"])
def test_another_agent_or_another_teams_lead_is_refused(case: Any, people: dict[str, Any], who: str) -> None:
    with pytest.raises(CaseError, match="担当者、チームのリーダー、管理者"):
        do_set_root_cause(case, actor=people[who], cause="carrier")
    assert not CaseRootCause.objects.exists() and not AuditEvent.objects.filter(action__startswith="root_cause").exists()


def test_a_cause_outside_the_six_is_refused(case: Any, people: dict[str, Any]) -> None:
    with pytest.raises(CaseError, match="選び直して"):
        do_set_root_cause(case, actor=people["agent"], cause="weather")


def test_the_case_page_shows_and_saves_the_root_cause(client: Any, case: Any, people: dict[str, Any]) -> None:
    client.force_login(people["agent"])
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="root-cause-panel"' in page and "お客様の誤解" in page  # the six choices
    response = client.post(f"/prevention/cases/{case.pk}/root-cause/", {"cause": "description", "note": "「防水」の表記が曖昧"})
    assert response.status_code == 302 and response["Location"].endswith(f"/cases/{case.pk}/#root-cause")
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "商品説明" in page and "「防水」の表記が曖昧" in page
    assert "根本原因を記録" in page  # the history names the action


def test_the_page_refuses_an_agent_who_may_not_in_japanese(client: Any, case: Any, people: dict[str, Any]) -> None:
    client.force_login(people["other"])
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="save-root-cause"' not in page
    response = client.post(f"/prevention/cases/{case.pk}/root-cause/", {"cause": "carrier"}, follow=True)
    assert response.status_code == 200 and "根本原因を記録できるのは" in response.content.decode()
    assert not CaseRootCause.objects.exists()
    # Bad input: a Japanese message, nothing lost, never a 500.
    client.force_login(people["agent"])
    response = client.post(f"/prevention/cases/{case.pk}/root-cause/", {"cause": "weather"}, follow=True)
    assert response.status_code == 200 and not CaseRootCause.objects.exists()


def test_erasing_the_customer_keeps_the_cause_and_blanks_its_note(case: Any, people: dict[str, Any]) -> None:
    from madoguchi.privacy.services import do_erase_customer

    do_set_root_cause(case, actor=people["agent"], cause="misunderstanding", note="山田様が「防水」を完全防水と受け取った")
    do_erase_customer(case.customer, actor=people["admin"])
    row = CaseRootCause.objects.get(case=case)
    assert row.cause == "misunderstanding" and "山田" not in row.note
