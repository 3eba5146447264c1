"""Two agents editing one case: no silent overwrite, no lost input, and no dead end."""

from __future__ import annotations

import re

import pytest

from madoguchi.cases import services
from madoguchi.testing.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db


def opened_form(client, case) -> dict[str, str]:
    """The record form as the browser holds it after opening 記録を編集 (hidden and visible fields)."""
    html = client.get(f"/cases/{case.pk}/parts/edit/").content.decode()
    return form_fields(html)


def form_fields(html: str) -> dict[str, str]:
    import html as html_lib

    fields: dict[str, str] = {}
    for tag in re.findall(r"<input [^>]*>", html):
        name = re.search(r'name="(edit-[^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and "checkbox" not in tag:
            fields[name.group(1)] = html_lib.unescape(value.group(1)) if value else ""
    for name, text in re.findall(r'<textarea name="(edit-[^"]+)"[^>]*>\n?(.*?)</textarea>', html, re.S):
        fields[name] = html_lib.unescape(text)
    for name, body in re.findall(r'<select name="(edit-[^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', body)
        fields[name] = chosen.group(1) if chosen else ""
    return fields


@pytest.fixture
def two_agents(client):
    from django.test import Client

    first, second = UserFactory(display_name="佐藤 花子"), UserFactory(display_name="鈴木 一郎")
    other = Client()
    client.force_login(first)
    other.force_login(second)
    return client, other, first


def test_after_a_clash_the_kept_input_saves_on_the_next_click(two_agents):
    first_client, second_client, _first = two_agents
    case = CaseFactory()
    mine = opened_form(second_client, case)
    theirs = opened_form(first_client, case)
    assert first_client.post(f"/cases/{case.pk}/edit/", {**theirs, "edit-solution": "代替品を発送します"}).status_code == 302

    response = second_client.post(f"/cases/{case.pk}/edit/", {**mine, "edit-solution": "全額返金します🙇"})
    body = response.content.decode()
    assert response.status_code == 409
    assert "佐藤 花子さんが先に更新しました" in body
    assert "相手の内容: 代替品を発送します" in body  # what the other agent wrote is shown
    again = form_fields(body)
    assert again["edit-solution"] == "全額返金します🙇"  # the agent's text is still in the form
    case.refresh_from_db()
    assert case.solution == "代替品を発送します"  # nothing was written by the refused save

    assert second_client.post(f"/cases/{case.pk}/edit/", again).status_code == 302  # no dead end
    case.refresh_from_db()
    assert case.solution == "全額返金します🙇"


def test_changes_to_different_fields_are_both_kept(two_agents):
    first_client, second_client, _first = two_agents
    case = CaseFactory(subject="商品が届かない")
    mine = opened_form(second_client, case)
    theirs = opened_form(first_client, case)
    assert first_client.post(f"/cases/{case.pk}/edit/", {**theirs, "edit-subject": "配送遅延（ヤマト）"}).status_code == 302

    response = second_client.post(f"/cases/{case.pk}/edit/", {**mine, "edit-landing_point": "明日15時に再送で合意"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.subject == "配送遅延（ヤマト）"  # the stale form did not write the old subject back
    assert case.landing_point == "明日15時に再送で合意"


def test_a_timeline_entry_in_between_does_not_block_saving_the_record(two_agents):
    first_client, second_client, first = two_agents
    case = CaseFactory()
    mine = opened_form(second_client, case)
    services.do_add_interaction(case, actor=first, kind="note", channel="phone", body="物流部に確認中")

    response = second_client.post(f"/cases/{case.pk}/edit/", {**mine, "edit-solution": "再送します"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.solution == "再送します"


def test_the_same_change_made_by_both_is_not_a_clash(two_agents):
    first_client, second_client, _first = two_agents
    case = CaseFactory()
    mine = opened_form(second_client, case)
    theirs = opened_form(first_client, case)
    assert first_client.post(f"/cases/{case.pk}/edit/", {**theirs, "edit-solution": "再送します"}).status_code == 302
    assert second_client.post(f"/cases/{case.pk}/edit/", {**mine, "edit-solution": "再送します"}).status_code == 302


def test_a_form_without_its_base_falls_back_to_refusing_any_difference():
    agent_a, agent_b = UserFactory(), UserFactory()
    case = CaseFactory(subject="商品が届かない")
    services.do_update_case(case, actor=agent_a, expected_version=1, changes={"subject": "配送遅延"})
    with pytest.raises(services.CaseConflict) as conflict:
        services.do_update_case(case, actor=agent_b, expected_version=1, changes={"subject": "商品が届かない", "solution": "返金"})
    assert conflict.value.clashes == ["subject", "solution"]  # without a base, any difference is a clash
    case.refresh_from_db()
    assert (case.subject, case.solution) == ("配送遅延", "")


def test_handover_after_a_conflict_keeps_the_note_and_goes_through_on_the_next_click(two_agents):
    first_client, second_client, first = two_agents
    case = CaseFactory(assignee=first)
    target = UserFactory(team=first.team)
    services.do_update_case(case, actor=first, expected_version=1, changes={"priority": 3})
    stale = {"ho-version": "1", "ho-to_user": str(target.pk), "ho-note": "返金の承認待ち。お客様は夕方以降希望。"}
    response = second_client.post(f"/cases/{case.pk}/handover/", stale)
    body = response.content.decode()
    assert response.status_code == 409
    assert "返金の承認待ち。お客様は夕方以降希望。" in body
    version = re.search(r'name="ho-version" value="(\d+)"', body)
    assert version and version.group(1) != "1"
    assert second_client.post(f"/cases/{case.pk}/handover/", {**stale, "ho-version": version.group(1)}).status_code == 302
    case.refresh_from_db()
    assert case.assignee == target


def test_resolving_with_an_open_promise_warns_which_loose_ends_remain(two_agents):
    from madoguchi.testing.factories import CommitmentFactory

    first_client, _second, first = two_agents
    case = CaseFactory(assignee=first)
    CommitmentFactory(case=case, owner=first)
    form = opened_form(first_client, case)
    response = first_client.post(f"/cases/{case.pk}/edit/", {**form, "edit-status": "resolved"}, follow=True)
    assert "未完了の約束 1件、承認待ちの補償 0件" in response.content.decode()
