"""Write-behind storage of visitors' messages (chat/storage.py): batched, acked after commit,
in order, stored once whatever is retried, and nothing dropped at disconnect or shutdown."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.db import OperationalError, transaction

from madoguchi.cases import signals
from madoguchi.cases.models import AuditEvent, Case, Interaction, Status
from madoguchi.chat import services, storage
from madoguchi.chat.models import ChatMessage, ChatSession
from madoguchi.chat.tests.helpers import agent_socket, receive_until, widget
from madoguchi.testing.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def open_chat(n: int = 1) -> ChatSession:
    return services.do_customer_message(services.start_session(name=f"山本 {n}"), client_id=f"first-{n}", text="こんにちは").session


def stored(session: ChatSession) -> list[str]:
    """The visitor's messages (an after-hours answer may also be on the chat)."""
    return list(ChatMessage.objects.filter(session=session, sender="customer").order_by("id").values_list("client_id", flat=True))


def timeline(session: ChatSession) -> list[str]:
    return list(Interaction.objects.filter(case_id=session.case_id, kind="inbound").order_by("occurred_at", "id")
                .values_list("external_id", flat=True))


@pytest.fixture
def heard():
    """interaction_added as other apps hear it: (external id, case id of the interaction's case)."""
    got: list[tuple[str, int]] = []

    def receiver(sender, interaction, **kwargs):
        got.append((interaction.external_id, interaction.case.pk))

    signals.interaction_added.connect(receiver, dispatch_uid="test-storage-heard")
    yield got
    signals.interaction_added.disconnect(dispatch_uid="test-storage-heard")


def test_a_batch_keeps_the_order_of_each_chat_and_sends_one_signal_per_message(heard):
    chats = [open_chat(n) for n in range(3)]
    heard.clear()

    async def scenario():
        writer = storage.Writer(flush_seconds=0.05, max_batch=7)
        futures = [writer.submit(chats[k % 3], f"m{k}", f"メッセージ {k}") for k in range(30)]
        posted = await asyncio.gather(*futures)
        return posted, writer.batches

    posted, batches = async_to_sync(scenario)()
    assert batches >= 5  # 30 messages, at most 7 a batch
    assert all(p.created for p in posted)
    for k, chat in enumerate(chats):
        mine = [f"m{j}" for j in range(30) if j % 3 == k]
        assert stored(chat) == [f"first-{k}", *mine]
        assert timeline(chat) == [f"first-{k}", *mine]
    assert [external_id for external_id, _case in heard] == [f"m{k}" for k in range(30)]
    assert all(case_id == chats[int(e[1:]) % 3].case_id for e, case_id in heard)


def test_the_same_message_twice_in_a_batch_or_again_later_is_stored_once():
    chat = open_chat()

    async def scenario():
        writer = storage.Writer(flush_seconds=0.05)
        first, twin = writer.submit(chat, "d1", "二回届く"), writer.submit(chat, "d1", "二回届く")
        results = await asyncio.gather(first, twin)
        later = await writer.submit(chat, "d1", "二回届く")
        return [*results, later]

    first, twin, later = async_to_sync(scenario)()
    assert (first.created, twin.created, later.created) == (True, False, False)
    assert first.message.pk == twin.message.pk == later.message.pk
    assert stored(chat) == ["first-1", "d1"] and timeline(chat) == ["first-1", "d1"]


def test_a_database_error_is_retried_and_nothing_is_stored_twice(heard):
    chat = open_chat()
    heard.clear()
    calls = []

    def flaky(items):
        calls.append(len(items))
        if len(calls) == 1:
            raise OperationalError("simulated: the database is locked")
        if len(calls) == 2:
            storage.store_batch(items)  # committed …
            raise OperationalError("simulated: … but the reply of the commit was lost")
        return storage.store_batch(items)

    async def scenario():
        writer = storage.Writer(flush_seconds=0.01, store=flaky)
        return await asyncio.gather(*(writer.submit(chat, f"e{k}", f"再送 {k}") for k in range(5)))

    posted = async_to_sync(scenario)()
    assert calls == [5, 5, 5]
    assert [p.message.client_id for p in posted] == [f"e{k}" for k in range(5)]  # every one acked
    assert stored(chat) == ["first-1", *(f"e{k}" for k in range(5))]
    assert timeline(chat) == ["first-1", *(f"e{k}" for k in range(5))]
    assert [e for e, _case in heard] == [f"e{k}" for k in range(5)]  # receivers ran once each


def test_a_new_chat_rolled_back_by_an_error_is_opened_once_on_the_retry():
    calls = []

    def rolled_back_once(items):
        calls.append(1)
        if len(calls) == 1:
            with transaction.atomic():
                storage.store_batch(items)
                raise OperationalError("simulated: connection lost before the commit")
        return storage.store_batch(items)

    async def scenario():
        writer = storage.Writer(flush_seconds=0.01, store=rolled_back_once)
        return await writer.submit(services.start_session(name="小林 誠"), "n1", "初めての問い合わせ")

    posted = async_to_sync(scenario)()
    assert posted.created and posted.new_session
    assert ChatSession.objects.count() == 1 and Case.objects.count() == 1
    assert stored(posted.session) == ["n1"]


def test_a_message_on_a_resolved_case_reopens_it_once_and_the_rest_go_in_bulk():
    chat = open_chat()
    Case.objects.filter(pk=chat.case_id).update(status=Status.RESOLVED)
    reopened = AuditEvent.objects.filter(case_id=chat.case_id, action="status_changed")
    before = reopened.count()  # (an after-hours answer may have opened the case already)

    async def scenario():
        writer = storage.Writer(flush_seconds=0.05)
        return await asyncio.gather(*(writer.submit(chat, f"o{k}", f"もう一度 {k}") for k in range(4)))

    async_to_sync(scenario)()
    assert Case.objects.get(pk=chat.case_id).status == Status.OPEN
    assert reopened.count() == before + 1
    assert timeline(chat) == ["first-1", "o0", "o1", "o2", "o3"]


def test_a_message_of_an_ended_chat_is_refused_and_the_rest_of_the_batch_is_stored():
    ended, live = open_chat(1), open_chat(2)
    services.do_end(ended, by=None)

    async def scenario():
        writer = storage.Writer(flush_seconds=0.05)
        refused = writer.submit(ended, "x1", "終わった後")
        kept = writer.submit(live, "k1", "まだ話している")
        return await asyncio.gather(refused, kept, return_exceptions=True)

    refused, kept = async_to_sync(scenario)()
    assert isinstance(refused, services.ChatError) and refused.code == "ended"
    assert kept.created and stored(live) == ["first-2", "k1"]
    assert "x1" not in stored(ended)


def test_the_agent_sees_the_message_at_once_and_the_visitor_is_acked_only_after_the_commit(monkeypatch):
    monkeypatch.setattr(storage, "FLUSH_SECONDS", 0.5)  # a slow flush, to look in between
    agent = UserFactory(username="wb-agent")
    chat = open_chat()
    services.do_take(chat.pk, agent=agent)

    async def scenario():
        desk = agent_socket(agent)
        await desk.connect()
        await desk.send_json_to({"type": "watch", "session_id": chat.pk})
        await receive_until(desk, "welcome")
        visitor = widget()
        await visitor.connect()
        await visitor.send_json_to({"type": "hello", "token": chat.token})
        await receive_until(visitor, "welcome")
        await visitor.send_json_to({"type": "message", "client_id": "w1", "text": "届いていますか"})
        draft = await receive_until(desk, "message", timeout=0.4)  # relayed before it is stored
        in_between = await database_sync_to_async(lambda: stored(chat), thread_sensitive=False)()
        nothing_yet = await visitor.receive_nothing(timeout=0.1)  # no ack (nor echo) before the flush
        ack = await receive_until(visitor, "ack", timeout=3)
        after_ack = await database_sync_to_async(lambda: stored(chat), thread_sensitive=False)()
        stored_copy = await receive_until(desk, "message")
        await visitor.disconnect()
        await desk.disconnect()
        return draft, in_between, nothing_yet, ack, after_ack, stored_copy

    draft, in_between, nothing_yet, ack, after_ack, stored_copy = async_to_sync(scenario)()
    assert draft["message"]["id"] is None and draft["message"]["text"] == "届いていますか"
    assert in_between == ["first-1"] and nothing_yet
    assert after_ack == ["first-1", "w1"]  # committed, seen from another connection
    assert ack["id"] == stored_copy["message"]["id"] == ChatMessage.objects.get(client_id="w1").pk


def test_a_message_sent_just_before_a_disconnect_is_still_stored():
    chat = open_chat()

    async def scenario():
        visitor = widget()
        await visitor.connect()
        await visitor.send_json_to({"type": "hello", "token": chat.token})
        await receive_until(visitor, "welcome")
        await visitor.send_json_to({"type": "message", "client_id": "gone1", "text": "送った直後に切断"})
        await asyncio.sleep(0.01)
        await visitor.disconnect()
        await storage.writer().idle()
        # The widget comes back and resends: acked, not stored again.
        again = widget()
        await again.connect()
        await again.send_json_to({"type": "hello", "token": chat.token})
        await receive_until(again, "welcome")
        await again.send_json_to({"type": "message", "client_id": "gone1", "text": "送った直後に切断"})
        ack = await receive_until(again, "ack")
        await again.disconnect()
        return ack

    ack = async_to_sync(scenario)()
    assert stored(chat) == ["first-1", "gone1"] and ack["id"] == ChatMessage.objects.get(client_id="gone1").pk
    assert timeline(chat) == ["first-1", "gone1"]


def test_what_a_writer_still_holds_at_shutdown_is_stored_once():
    chat = open_chat()

    async def scenario():
        writer = storage.Writer(flush_seconds=60)  # would not flush before the "shutdown"
        for k in range(3):
            writer.submit(chat, f"s{k}", f"終了間際 {k}")
        writer.task.cancel()
        await asyncio.sleep(0)
        return writer

    writer = async_to_sync(scenario)()
    assert stored(chat) == ["first-1"] and len(writer.items) == 3
    storage.store_what_is_left()
    storage.store_what_is_left()  # a second pass (or the widget's resend) adds nothing
    assert stored(chat) == ["first-1", "s0", "s1", "s2"]
    assert timeline(chat) == ["first-1", "s0", "s1", "s2"]
