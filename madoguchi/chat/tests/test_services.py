"""Chat rules without a socket: one message stored once, taking a chat, transfer, measures."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from madoguchi.cases.models import Handover, Interaction, InteractionKind
from madoguchi.cases.services import do_send_reply
from madoguchi.chat import services
from madoguchi.chat.models import ChatMessage, SessionState
from madoguchi.testing.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def start(text: str = "注文した商品が届きません", **meta: str) -> services.Posted:
    return services.do_customer_message(services.start_session(**meta), client_id="c1", text=text)


def test_a_resent_message_is_stored_once_on_the_chat_and_the_case():
    posted = start(email="yumi@example.jp", name="中村 由美")
    again = services.do_customer_message(posted.session, client_id="c1", text="注文した商品が届きません")
    assert again.created is False and again.message.pk == posted.message.pk
    assert ChatMessage.objects.count() == 1
    assert Interaction.objects.filter(case=posted.session.case).count() == 1
    assert posted.session.case.complaint == "注文した商品が届きません"


def test_two_agents_cannot_take_the_same_chat():
    posted = start()
    first, second = UserFactory(username="take-a"), UserFactory(username="take-b")
    services.do_take(posted.session.pk, agent=first)
    with pytest.raises(services.ChatError) as refused:
        services.do_take(posted.session.pk, agent=second)
    assert refused.value.code == "taken"
    posted.session.refresh_from_db()
    assert posted.session.taken_by == first
    assert posted.session.case.assignee == first


def test_time_to_take_and_to_first_reply_are_recorded():
    agent = UserFactory(username="measure")
    with time_machine.travel(dt.datetime(2026, 11, 24, 1, 0, 0, tzinfo=dt.UTC), tick=False):
        posted = start()
    with time_machine.travel(dt.datetime(2026, 11, 24, 1, 0, 40, tzinfo=dt.UTC), tick=False):
        services.do_take(posted.session.pk, agent=agent)
    session = posted.session
    session.refresh_from_db()
    with time_machine.travel(dt.datetime(2026, 11, 24, 1, 1, 10, tzinfo=dt.UTC), tick=False):
        services.do_agent_message(session, agent=agent, client_id="a1", text="お待たせしました。")
    with time_machine.travel(dt.datetime(2026, 11, 24, 1, 2, 0, tzinfo=dt.UTC), tick=False):
        services.do_agent_message(session, agent=agent, client_id="a2", text="確認いたします。")
    session.refresh_from_db()
    assert session.seconds_to_take == 40
    assert session.seconds_to_first_reply == 70


def test_an_agent_who_has_not_taken_the_chat_cannot_reply():
    posted = start()
    with pytest.raises(services.ChatError):
        services.do_agent_message(posted.session, agent=UserFactory(username="nottaken"), client_id="a1", text="こんにちは")


def test_transfer_to_a_team_puts_the_chat_back_in_the_queue_with_a_handover_note():
    posted = start()
    agent = UserFactory(username="tr-a")
    services.do_take(posted.session.pk, agent=agent)
    team = TeamFactory(name="返品チーム")
    session = services.do_transfer(posted.session, actor=agent, note="返品の手続きをご希望です", to_team=team)
    assert session.state == SessionState.WAITING and session.taken_by is None
    assert Handover.objects.filter(case=session.case, to_team=team, note="返品の手続きをご希望です").exists()
    assert services.queue_snapshot()["order"] == [session.pk]


def test_a_reply_from_the_case_page_reaches_the_chat():
    posted = start()
    agent = UserFactory(username="composer")
    services.do_take(posted.session.pk, agent=agent)
    do_send_reply(posted.session.case, actor=agent, body="ご連絡ありがとうございます。")
    assert posted.session.messages.filter(sender="agent", text="ご連絡ありがとうございます。").exists()
    assert Interaction.objects.filter(case=posted.session.case, kind=InteractionKind.OUTBOUND).count() == 1


def test_chat_is_offered_only_with_an_agent_online(settings):
    assert services.chat_open() is False
    agent = UserFactory(username="online")
    services.do_agent_seen("chan-1", agent)
    assert services.chat_open() is True
    services.do_agent_gone("chan-1")
    assert services.chat_open() is False


def test_outside_business_hours_chat_is_closed_even_with_an_agent_online(settings):
    settings.MADOGUCHI_CHAT_BUSINESS_HOURS = True
    services.do_agent_seen("chan-2", UserFactory(username="late"))
    sunday_night = dt.datetime(2026, 11, 22, 14, 0, tzinfo=dt.UTC)  # 23:00 JST on a Sunday
    with time_machine.travel(sunday_night, tick=False):
        services.do_agent_seen("chan-2", UserFactory(username="late"))
        assert services.chat_open(timezone.now()) is False


def test_after_the_visitor_leaves_the_case_goes_on_by_email():
    posted = start(email="taro@example.jp")
    agent = UserFactory(username="leaves")
    services.do_take(posted.session.pk, agent=agent)
    assert do_send_reply(posted.session.case, actor=agent, body="チャットで失礼します。").channel == "chat"
    services.do_end(posted.session, by=None)
    later = do_send_reply(posted.session.case, actor=agent, body="その後、配送会社に確認しました。")
    assert later.channel == "email"
    assert not posted.session.messages.filter(text="その後、配送会社に確認しました。").exists()


def test_a_reply_on_a_contact_form_case_goes_by_email():
    from madoguchi.chat.public import do_contact

    case = do_contact(name="小林 誠", email="makoto@example.jp", category=None, order_number="", message="返品の方法を教えてください")
    assert do_send_reply(case, actor=UserFactory(username="form-reply"), body="返品の手順をご案内します。").channel == "email"


def test_a_first_message_resent_on_a_new_socket_is_the_same_chat_not_a_second_one():
    # Stored, but the ack went down with the socket: the widget has no token yet and sends the
    # first message again on its next socket, from a session object of its own.
    posted = start(email="naoko@example.jp", name="小林 直子")
    again = services.do_customer_message(services.start_session(email="naoko@example.jp", name="小林 直子"),
                                         client_id="c1", text="注文した商品が届きません")
    assert again.created is False and again.new_session is False
    assert again.session.pk == posted.session.pk and again.message.pk == posted.message.pk
    assert ChatMessage.objects.count() == 1 and Interaction.objects.count() == 1
    # Another visitor whose browser happened on the same id starts a chat of their own.
    other = services.do_customer_message(services.start_session(email="ken@example.jp", name="森 健"),
                                         client_id="c1", text="注文した商品が届きません")
    assert other.new_session is True and other.session.pk != posted.session.pk
