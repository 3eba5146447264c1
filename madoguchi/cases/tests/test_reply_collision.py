"""The double-reply guard (issue 22, item 2): a reply sent by somebody else after the agent
opened the page holds the agent's reply; the page shows theirs and asks to confirm."""

from __future__ import annotations

import re

import pytest

from madoguchi.cases import services
from madoguchi.cases.models import Interaction, InteractionKind, Status
from madoguchi.testing.factories import CaseFactory, InteractionFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk():
    team = TeamFactory(name="サポート1課")
    first = UserFactory(username="tanaka", display_name="田中 健太", team=team)
    second = UserFactory(username="suzuki", display_name="鈴木 一郎", team=team)
    case = CaseFactory(assignee=first, team=team, status=Status.OPEN, channel="phone")
    InteractionFactory(case=case, body="届いたマグカップが割れていました。")
    return case, first, second


def outbound(case):
    return list(Interaction.objects.filter(case=case, kind=InteractionKind.OUTBOUND).values_list("body", flat=True))


def seen_on(page: str) -> str:
    return re.search(r'name="re-seen" value="(\d+)"', page).group(1)  # type: ignore[union-attr]


def test_service_holds_a_reply_when_a_person_replied_after_what_the_agent_saw(desk):
    case, first, second = desk
    seen = Interaction.objects.filter(case=case).latest("id").pk
    theirs = services.do_send_reply(case, actor=second, body="鈴木です。代わりの品を本日発送いたします。", seen_up_to=seen)
    with pytest.raises(services.ReplyCollision) as held:
        services.do_send_reply(case, actor=first, body="田中です。確認して折り返します。", seen_up_to=seen)
    assert [reply.pk for reply in held.value.replies] == [theirs.pk]
    assert "鈴木 一郎さんが" in str(held.value)
    assert len(outbound(case)) == 1  # nothing sent to the customer twice
    services.do_send_reply(case, actor=first, body="田中です。確認して折り返します。", seen_up_to=theirs.pk)  # confirmed
    assert len(outbound(case)) == 2


def test_automatic_messages_do_not_hold_a_reply(desk):
    case, first, _second = desk
    seen = Interaction.objects.filter(case=case).latest("id").pk
    services.do_add_interaction(case, actor=None, kind=InteractionKind.OUTBOUND, channel="email", body="受付のお知らせ（自動）")
    services.do_send_reply(case, actor=first, body="田中です。", seen_up_to=seen)
    assert len(outbound(case)) == 2


def test_page_shows_their_reply_first_and_sends_only_after_それでも送信(client, desk):
    case, first, second = desk
    client.force_login(first)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    seen = seen_on(page)
    services.do_send_reply(case, actor=second, body="鈴木です。代わりの品を本日発送いたします。")  # meanwhile
    held = client.post(f"/cases/{case.pk}/reply/", {"re-body": "田中です。確認して折り返します。", "re-seen": seen})
    text = held.content.decode()
    assert held.status_code == 409
    assert 'data-testid="reply-collision"' in text and "代わりの品を本日発送いたします" in text
    assert "あなたの返信はまだ送っていません" in text and "それでも送信" in text
    assert "田中です。確認して折り返します。" in text  # the agent's words are kept
    assert 'name="re-confirm"' in text and outbound(case) == ["鈴木です。代わりの品を本日発送いたします。"]
    again = client.post(f"/cases/{case.pk}/reply/", {"re-body": "田中です。確認して折り返します。", "re-seen": seen_on(text), "re-confirm": "on"})
    assert again.status_code == 302
    assert len(outbound(case)) == 2


def test_a_reply_with_nothing_newer_goes_at_once(client, desk):
    case, first, _second = desk
    client.force_login(first)
    seen = seen_on(client.get(f"/cases/{case.pk}/").content.decode())
    assert client.post(f"/cases/{case.pk}/reply/", {"re-body": "田中です。", "re-seen": seen}).status_code == 302
    assert client.post(f"/cases/{case.pk}/reply/", {"re-body": "田中です。", "re-seen": "abc"}).status_code == 400  # bad input: a message, no 500
