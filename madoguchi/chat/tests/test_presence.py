"""A web process that dies outright (kill -9, a power cut) closes none of its sockets. Its chat
visitors stayed counted for ever: never shown as gone, their waiting chats never ended. Counts
are now kept per web process, and the living processes take off those of a silent one."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone

from madoguchi.chat import presence, services
from madoguchi.chat.models import ChatSession, VisitorPresence, WebProcess
from madoguchi.chat.tests.servers import own_database
from madoguchi.testing.desk_process import ServedDesk, free_port

SHOP = "http://shop.example.jp"


MESSAGE_IDS = itertools.count(1)


def start_chat() -> ChatSession:
    # Each its own browser-chosen id: the same id and words would be one chat sent again.
    return services.do_customer_message(services.start_session(name="中村 由美"), client_id=f"c{next(MESSAGE_IDS)}",
                                        text="注文した急須が届きません").session


def process(pk: str, seen: dt.datetime) -> WebProcess:
    return WebProcess.objects.create(pk=pk, pid=1, started_at=seen, seen_at=seen)


@pytest.mark.django_db
def test_the_visitors_of_a_silent_process_are_taken_off_and_the_others_stay(settings):
    settings.MADOGUCHI_WEB_HEARTBEAT_SECONDS = 20
    now = dt.datetime(2026, 12, 7, 6, 0, tzinfo=dt.UTC)
    died = process("a" * 36, now - dt.timedelta(seconds=81))  # silent for more than four beats
    alive = process("b" * 36, now - dt.timedelta(seconds=30))
    both, only_dead = start_chat(), start_chat()
    for pk, where in ((both.pk, died.pk), (both.pk, died.pk), (both.pk, alive.pk), (only_dead.pk, died.pk)):
        services.do_visitor_here(pk, process=where)

    gone = presence.do_take_off_dead_processes(now)

    both.refresh_from_db()
    only_dead.refresh_from_db()
    assert gone == [(only_dead.pk, died.seen_at)]
    assert (both.visitor_sockets, both.visitor_left_at) == (1, None)  # a tab in the living process
    assert (only_dead.visitor_sockets, only_dead.visitor_left_at) == (0, died.seen_at)  # gone since last seen
    assert not WebProcess.objects.filter(pk=died.pk).exists()
    assert set(VisitorPresence.objects.values_list("process", flat=True)) == {alive.pk}


@pytest.mark.django_db
def test_a_process_taken_off_while_stalled_does_not_count_its_sockets_out_twice(settings):
    """A process stalled past four beats (the database away) was taken off; when its sockets
    close later, the totals must not go down a second time (another tab would be lost)."""
    settings.MADOGUCHI_WEB_HEARTBEAT_SECONDS = 20
    now = timezone.now()
    stalled = process("c" * 36, now - dt.timedelta(minutes=5))
    chat = start_chat()
    services.do_visitor_here(chat.pk, process=stalled.pk)
    services.do_visitor_here(chat.pk, process=presence.PROCESS_ID)
    presence.do_take_off_dead_processes(now)

    assert services.do_visitor_socket_closed(chat.pk, process=stalled.pk) is None
    chat.refresh_from_db()
    assert (chat.visitor_sockets, chat.visitor_left_at) == (1, None)
    assert services.do_visitor_socket_closed(chat.pk) is not None  # this process's tab: the last one
    chat.refresh_from_db()
    assert chat.visitor_sockets == 0


@pytest.mark.django_db
def test_a_beat_marks_this_process_alive_again_after_it_was_taken_off():
    long_ago = timezone.now() - dt.timedelta(hours=1)
    with time_machine.travel(long_ago, tick=False):
        presence.do_beat()
    WebProcess.objects.filter(pk=presence.PROCESS_ID).delete()  # a sweep took it while it stalled
    presence.do_beat()
    assert WebProcess.objects.get(pk=presence.PROCESS_ID).seen_at > long_ago


# --- in the desk users run -------------------------------------------------------------------------

STATE = """
from madoguchi.chat.models import ChatSession
s = ChatSession.objects.get(pk={pk})
print(s.visitor_sockets, s.visitor_left_at is not None, sep="|")
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServedDesk]:
    with own_database("chat_presence") as database_url:
        desk = ServedDesk.create(tmp_path / "data", database_url, sink_port=free_port(),
                                 MADOGUCHI_WEB_HEARTBEAT_SECONDS="1", MADOGUCHI_CHAT_ALLOWED_ORIGINS=SHOP)
        try:
            yield desk
        finally:
            desk.stop()


async def _visitor_while_the_desk_is_killed(desk: ServedDesk) -> int:
    import websockets

    async with websockets.connect(desk.url.replace("http", "ws", 1) + "/ws/chat/widget/", origin=SHOP) as visitor:
        await visitor.send(json.dumps({"type": "hello", "name": "中村 由美"}))
        await visitor.send(json.dumps({"type": "message", "client_id": "k1", "text": "注文した急須が届きません"}))
        while (event := json.loads(await asyncio.wait_for(visitor.recv(), 30)))["type"] != "ack":
            pass
        await asyncio.sleep(1)  # counted in after the ack
        await asyncio.get_running_loop().run_in_executor(None, desk.kill9)
        return int(event["session"]["id"])


@pytest.mark.e2e
def test_after_a_kill9_the_restarted_desk_shows_the_visitor_gone(served: ServedDesk) -> None:
    served.start()
    with ThreadPoolExecutor(1) as pool:  # a loop of its own, away from any test loop
        pk = pool.submit(asyncio.run, _visitor_while_the_desk_is_killed(served)).result(timeout=120)
    assert served.shell(STATE.format(pk=pk)) == "1|False"  # the killed desk closed nothing
    served.start()
    deadline = time.monotonic() + 30  # four beats of a second, then the next beat of the new desk
    state = ""
    while time.monotonic() < deadline and state != "0|True":
        time.sleep(1)
        state = served.shell(STATE.format(pk=pk))
    assert state == "0|True", served.log_path.read_text()[-3000:]
    assert "taken off" in served.log_path.read_text()
