"""The satisfaction survey reaches the customer after the chat has ended (issue 15 §6).

A chat through the real widget and agent sockets (channels' WebsocketCommunicator on the real
ASGI application), the agent's work on the case page (Django test client), and the minute
jobs run as the Huey consumer runs them: the periodic tasks due at that minute, executed.
The invitation goes after the shop's delay, by mail once the chat has ended; a customer with
no address gets a note on the case's timeline, never a message into the dead chat.
"""

from __future__ import annotations

import datetime as dt
import gc
from zoneinfo import ZoneInfo

import pytest
import time_machine
from asgiref.sync import async_to_sync
from django.core import mail as django_mail
from django.db.models.signals import post_save
from django.test import Client

from madoguchi.cases.models import Case, Interaction, Status
from madoguchi.cases.tests.test_edit_conflicts import opened_form
from madoguchi.chat.models import ChatMessage, ChatSession, SessionState
from madoguchi.chat.tests.helpers import receive_until, widget
from madoguchi.mail.models import OutboundMessage
from madoguchi.metrics.models import Survey, SurveyOptions
from madoguchi.testing.factories import UserFactory

JST = ZoneInfo("Asia/Tokyo")
FRIDAY_MORNING = dt.datetime(2026, 11, 20, 10, 0, tzinfo=JST)  # business hours: no after-hours answer
NOT_DELIVERABLE = "お客様に届ける手段がないため、満足度アンケートを送れませんでした"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _chat_settings(settings):
    from madoguchi.businesshours.calendar import forget

    settings.MADOGUCHI_CHAT_ALLOWED_ORIGINS = ["http://shop.example.jp"]
    settings.MADOGUCHI_CHAT_BUSINESS_HOURS = False
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "madoguchi.chat.layers.InMemoryLayer"}}
    forget()
    yield
    forget()
    # The widget's reads ran in the pool threads of event loops that are gone now; collect
    # their connections, so PostgreSQL can drop the test database at the end.
    gc.collect()


def run_minute_jobs(at: dt.datetime) -> None:
    """What the Huey consumer does at minute `at`: its scheduler reads the periodic tasks due
    then (`read_periodic`) and a worker executes each. The metrics app's minute jobs."""
    from huey.contrib.djhuey import HUEY

    import madoguchi.metrics.tasks  # noqa: F401 - the consumer imports every tasks module

    with time_machine.travel(at, tick=False):
        stamp = at.astimezone(dt.UTC).replace(tzinfo=None) if HUEY.utc else at.replace(tzinfo=None)
        due = [task for task in HUEY.read_periodic(stamp) if type(task).__module__ == "madoguchi.metrics.tasks"]
        assert any(type(task).__name__ == "send_due_surveys_job" for task in due)
        for task in due:
            HUEY.execute(task)


def chat_then_leave(email: str) -> ChatSession:
    """A visitor chats with an agent, then ends the chat from the widget."""
    agent = UserFactory(username="chat-tanaka", display_name="田中 健太")
    desk = Client()
    desk.force_login(agent)

    async def visitor_writes() -> dict:
        visitor = widget()
        assert (await visitor.connect())[0]
        await visitor.send_json_to({"type": "hello", "page_url": "http://shop.example.jp/items/12",
                                    "name": "山田 太郎", "email": email})
        await receive_until(visitor, "welcome")
        await visitor.send_json_to({"type": "message", "client_id": "c1", "text": "届いたマグカップの取っ手が欠けていました。"})
        ack = await receive_until(visitor, "ack")
        await visitor.disconnect()
        return ack

    ack = async_to_sync(visitor_writes)()
    session = ChatSession.objects.get(pk=ack["session"]["id"])
    assert desk.post(f"/chat/{session.pk}/take/").status_code == 302
    desk.post(f"/cases/{session.case_id}/reply/", {"re-body": "申し訳ございません。交換品を本日発送いたします。"})
    assert ChatMessage.objects.filter(session=session, text__startswith="申し訳ございません").exists()  # reached the chat

    async def visitor_leaves() -> None:
        visitor = widget()
        assert (await visitor.connect())[0]
        await visitor.send_json_to({"type": "hello", "token": ack["token"]})
        await receive_until(visitor, "welcome")
        await visitor.send_json_to({"type": "end"})
        await receive_until(visitor, "state")
        await visitor.disconnect()

    async_to_sync(visitor_leaves)()
    session.refresh_from_db()
    assert session.state == SessionState.ENDED
    session.desk = desk  # type: ignore[attr-defined]
    return session


def resolve_on_the_case_page(desk: Client, case: Case) -> None:
    response = desk.post(f"/cases/{case.pk}/edit/", {**opened_form(desk, case), "edit-status": "resolved"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.RESOLVED


def invitations(session: ChatSession) -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(case_id=session.case_id, body__contains="/metrics/survey/"))


def test_chat_resolved_after_the_customer_left_gets_its_survey_by_mail_after_the_delay():
    with time_machine.travel(FRIDAY_MORNING, tick=True):
        session = chat_then_leave("Taro@Example.jp")
        desk = session.desk  # type: ignore[attr-defined]
        resolve_on_the_case_page(desk, session.case)
        django_mail.outbox.clear()

    # Not on resolution, not a minute before the 24 hours are up.
    run_minute_jobs(FRIDAY_MORNING + dt.timedelta(minutes=1))
    run_minute_jobs(FRIDAY_MORNING + dt.timedelta(hours=23, minutes=58))
    assert invitations(session) == [] and django_mail.outbox == []

    run_minute_jobs(FRIDAY_MORNING + dt.timedelta(hours=24, minutes=2))
    [invitation] = invitations(session)
    assert invitation.to_address == "taro@example.jp" and invitation.state == "sent"
    [sent] = django_mail.outbox
    # The name typed in the chat is the visitor's claim: the mail says 「お客様」 (customers.services.salutation).
    assert sent.to == ["taro@example.jp"] and sent.body.startswith("お客様\n") and "/metrics/survey/" in sent.body
    # Nothing went into the chat the customer left.
    assert not ChatMessage.objects.filter(session=session, text__contains="アンケート").exists()

    # The minute job runs on: still one invitation.
    run_minute_jobs(FRIDAY_MORNING + dt.timedelta(hours=24, minutes=3))
    run_minute_jobs(FRIDAY_MORNING + dt.timedelta(hours=30))
    assert len(invitations(session)) == 1 and len(django_mail.outbox) == 1
    survey = Survey.objects.get(case=session.case_id)
    assert survey.channel == "email" and survey.state == "sent"

    with time_machine.travel(FRIDAY_MORNING + dt.timedelta(hours=30), tick=False):
        page = desk.get(f"/cases/{session.case_id}/parts/side/").content.decode()
    assert 'data-testid="survey-link"' in page


def test_chat_customer_without_an_address_gets_a_note_on_the_case_not_a_message_into_the_dead_chat():
    with time_machine.travel(FRIDAY_MORNING, tick=True):
        session = chat_then_leave("")
        desk = session.desk  # type: ignore[attr-defined]
        resolve_on_the_case_page(desk, session.case)

    run_minute_jobs(FRIDAY_MORNING + dt.timedelta(hours=24, minutes=2))
    assert OutboundMessage.objects.filter(case_id=session.case_id).count() == 0
    assert not ChatMessage.objects.filter(session=session, text__contains="アンケート").exists()
    assert not Interaction.objects.filter(case_id=session.case_id, kind="outbound", body__contains="アンケート").exists()
    [note] = Interaction.objects.filter(case_id=session.case_id, kind="system")
    assert note.body.startswith(NOT_DELIVERABLE) and "チャットはすでに終了" in note.body

    # The agent sees it on the case page, with the link to pass on by phone.
    with time_machine.travel(FRIDAY_MORNING + dt.timedelta(hours=25), tick=False):
        page = desk.get(f"/cases/{session.case_id}/").content.decode()
        panel = desk.get(f"/cases/{session.case_id}/parts/side/").content.decode()
    assert NOT_DELIVERABLE in page
    assert 'data-testid="survey-not-deliverable"' in panel and 'data-testid="survey-link"' in panel

    run_minute_jobs(FRIDAY_MORNING + dt.timedelta(hours=26))
    assert Interaction.objects.filter(case_id=session.case_id, kind="system").count() == 1


def test_reopened_before_the_delay_no_survey_resolving_again_starts_the_delay_again_and_never_two():
    with time_machine.travel(FRIDAY_MORNING, tick=True):
        session = chat_then_leave("taro@example.jp")
        desk = session.desk  # type: ignore[attr-defined]
        case = session.case
        resolve_on_the_case_page(desk, case)
    # The customer writes again (by mail) the same evening: the agent reopens the case.
    with time_machine.travel(FRIDAY_MORNING + dt.timedelta(hours=8), tick=False):
        desk.post(f"/cases/{case.pk}/edit/", {**opened_form(desk, case), "edit-status": "open"})
    case.refresh_from_db()
    assert case.status == Status.OPEN
    run_minute_jobs(FRIDAY_MORNING + dt.timedelta(hours=24, minutes=2))
    assert invitations(session) == []

    # Resolved again on Saturday at 12:00: the 24 hours count from then.
    again = FRIDAY_MORNING + dt.timedelta(hours=26)
    with time_machine.travel(again, tick=False):
        resolve_on_the_case_page(desk, case)
    run_minute_jobs(again + dt.timedelta(hours=23, minutes=58))
    assert invitations(session) == []
    run_minute_jobs(again + dt.timedelta(hours=24, minutes=2))
    assert len(invitations(session)) == 1

    # Reopened and resolved once more: no second invitation, ever.
    with time_machine.travel(again + dt.timedelta(hours=30), tick=False):
        desk.post(f"/cases/{case.pk}/edit/", {**opened_form(desk, case), "edit-status": "open"})
        resolve_on_the_case_page(desk, case)
    run_minute_jobs(again + dt.timedelta(hours=60))
    assert len(invitations(session)) == 1


def test_a_crash_while_sending_leaves_the_survey_waiting_and_it_goes_once_on_the_next_run():
    """The survey's mark and the invitation (with its outbox row) commit together: a failure
    in between sends nothing and marks nothing; the next minute sends it, once."""
    with time_machine.travel(FRIDAY_MORNING, tick=True):
        session = chat_then_leave("taro@example.jp")
        resolve_on_the_case_page(session.desk, session.case)  # type: ignore[attr-defined]

    def crash(sender, instance, created, **kwargs):  # the database gives out after the invitation was written
        if instance.state == "sent":
            raise RuntimeError("connection lost")

    post_save.connect(crash, sender=Survey, dispatch_uid="test.crash")
    try:
        run_minute_jobs(FRIDAY_MORNING + dt.timedelta(hours=24, minutes=2))
    finally:
        post_save.disconnect(dispatch_uid="test.crash", sender=Survey)
    assert django_mail.outbox == [] or all("/metrics/survey/" not in m.body for m in django_mail.outbox)
    survey = Survey.objects.get(case=session.case_id)
    assert survey.state == "waiting" and survey.sent_at is None
    assert not Interaction.objects.filter(case_id=session.case_id, body__contains="/metrics/survey/").exists()

    run_minute_jobs(FRIDAY_MORNING + dt.timedelta(hours=24, minutes=3))
    run_minute_jobs(FRIDAY_MORNING + dt.timedelta(hours=24, minutes=4))
    assert len(invitations(session)) == 1
    assert Interaction.objects.filter(case_id=session.case_id, body__contains="/metrics/survey/").count() == 1


def test_the_admin_sets_the_delay_on_the_settings_page_and_agents_cannot():
    from madoguchi.accounts.models import Role

    admin, agent = UserFactory(role=Role.ADMIN), UserFactory()
    shop, desk = Client(), Client()
    shop.force_login(admin)
    desk.force_login(agent)
    page = shop.get("/settings/").content.decode()
    assert 'name="delay_hours"' in page and 'value="24"' in page  # the default
    assert desk.post("/settings/survey/", {"delay_hours": "1"}).status_code == 403
    refused = shop.post("/settings/survey/", {"delay_hours": "-3"})
    assert refused.status_code == 400 and 'name="delay_hours"' in refused.content.decode()
    assert shop.post("/settings/survey/", {"delay_hours": "2"}).status_code == 302
    assert SurveyOptions.objects.get().delay_hours == 2
    assert 'value="2"' in shop.get("/settings/").content.decode()

    with time_machine.travel(FRIDAY_MORNING, tick=True):
        session = chat_then_leave("taro@example.jp")
        resolve_on_the_case_page(session.desk, session.case)  # type: ignore[attr-defined]
    run_minute_jobs(FRIDAY_MORNING + dt.timedelta(hours=1, minutes=58))
    assert invitations(session) == []
    run_minute_jobs(FRIDAY_MORNING + dt.timedelta(hours=2, minutes=2))
    assert len(invitations(session)) == 1
