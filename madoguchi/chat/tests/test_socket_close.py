"""A closed socket leaves no task of its own behind (the real ASGI application, Channels'
WebsocketCommunicator). Before, the job task each socket started (ChatSocket.work) waited
forever on its queue after the socket closed, and the collector destroyed it pending: "Task
was destroyed but it is pending! ChatSocket.work()" once per chat in the desk's log."""

from __future__ import annotations

import gc
import logging

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async

from madoguchi.chat import services
from madoguchi.chat.models import ChatMessage
from madoguchi.chat.tests.helpers import agent_socket, receive_until, widget
from madoguchi.testing.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def asyncio_log():
    """What asyncio logs, on its own logger (Django's set-up replaces the root's handlers when
    the ASGI application is first imported, so pytest's caplog would miss it)."""
    from madoguchi.asgi import application  # noqa: F401 - the set-up happens before we listen

    kept = Kept()
    logger = logging.getLogger("asyncio")
    logger.addHandler(kept)
    try:
        yield kept.lines
    finally:
        logger.removeHandler(kept)


def test_connect_and_disconnect_cycles_leave_no_pending_task_behind(asyncio_log):
    agent = UserFactory(username="cycle-agent", display_name="佐藤 花子")

    async def scenario() -> None:
        token = ""
        for n in range(4):  # a visitor who reloads the shop's page, and an agent who opens the case
            visitor = widget()
            assert (await visitor.connect())[0]
            await visitor.send_json_to({"type": "hello", "token": token, "name": "山田 太郎"})
            await receive_until(visitor, "welcome")
            await visitor.send_json_to({"type": "message", "client_id": f"v{n}", "text": f"注文した急須が届きません（{n}回目）"})
            ack = await receive_until(visitor, "ack")
            token = ack["token"]
            if n == 0:
                await database_sync_to_async(services.do_take)(ack["session"]["id"], agent=agent)
            desk = agent_socket(agent)
            assert (await desk.connect())[0]
            await desk.send_json_to({"type": "watch", "session_id": ack["session"]["id"]})
            await receive_until(desk, "welcome")
            await desk.send_json_to({"type": "message", "session_id": ack["session"]["id"], "client_id": f"a{n}",
                                     "text": "確認いたします。少々お待ちください。"})
            await receive_until(desk, "ack")
            await visitor.disconnect()
            await desk.disconnect()
            del visitor, desk
            gc.collect()  # what would, some time later, collect the socket's forgotten tasks

    async_to_sync(scenario)()
    gc.collect()
    assert not [line for line in asyncio_log if "destroyed but it is pending" in line], asyncio_log
    assert ChatMessage.objects.filter(sender="customer").count() == 4
    assert ChatMessage.objects.filter(sender="agent", text="確認いたします。少々お待ちください。").count() == 4
