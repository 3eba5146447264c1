"""The expiry of abandoned waiting chats runs in the process shops run: `madoguchi serve` with
its worker threads (the embedded default), found through madoguchi.jobs.registry like every
app's jobs. Nothing here calls the job: the test writes a chat whose visitor left long ago and
watches the running desk end it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from madoguchi.chat.tests.servers import own_database
from madoguchi.testing.desk_process import ServedDesk, free_port

pytestmark = pytest.mark.e2e

SETUP = """
import datetime as dt
from django.utils import timezone
from madoguchi.chat import services
from madoguchi.chat.models import ChatSession
posted = services.do_customer_message(services.start_session(name="中村 由美", email="yumi@example.jp"),
                                      client_id="c1", text="注文した急須の色が違いました")
services.do_visitor_here(posted.session.pk)
services.do_visitor_socket_closed(posted.session.pk)
ChatSession.objects.filter(pk=posted.session.pk).update(visitor_left_at=timezone.now() - dt.timedelta(minutes=11))
print(posted.session.pk)
"""

STATE = """
from madoguchi.chat.models import ChatSession
from madoguchi.jobs.models import JobRun
s = ChatSession.objects.select_related("case").get(pk={pk})
run = JobRun.objects.filter(name="madoguchi.chat.tasks.expire_waiting_chats_job").first()
print(s.state, s.case.status, s.case.interactions.filter(kind="inbound").count(), s.case.interactions.filter(kind="system").count(),
      run.runs if run else 0, sep="|")
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServedDesk]:
    with own_database() as database_url:
        desk = ServedDesk.create(tmp_path / "data", database_url, sink_port=free_port(),
                                 MADOGUCHI_CHAT_WAITING_EXPIRE_MINUTES="10")
        try:
            yield desk
        finally:
            desk.stop()


def test_the_running_desk_ends_a_waiting_chat_whose_visitor_left_and_keeps_the_case(served: ServedDesk) -> None:
    pk = served.shell(SETUP)
    assert pk.isdigit()
    assert served.shell(STATE.format(pk=pk)).startswith("waiting|")
    served.start()
    deadline = time.monotonic() + 90  # the job runs each minute
    state = ""
    while time.monotonic() < deadline:
        state = served.shell(STATE.format(pk=pk))
        if state.startswith("ended|"):
            break
        time.sleep(2)
    state, case_status, inbound, notes, runs = state.split("|")
    assert state == "ended", served.log_path.read_text()[-3000:]
    assert case_status == "new" and inbound == "1" and notes == "1"  # the case, its message and the note stay
    assert int(runs) >= 1
    log = served.log_path.read_text()
    assert "not found in TaskRegistry" not in log and "Task was destroyed" not in log
