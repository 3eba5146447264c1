"""A scheduled reply in the process a shop runs (`madoguchi serve` with its embedded worker, on
SQLite or PostgreSQL as the suite runs): scheduled while the desk runs, it reaches the mail server
at its time, not before, and once, with its BCC in the envelope only. Nothing here calls a job:
the test writes through the desk's services in `madoguchi shell` and watches the mail server."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from madoguchi.chat.tests.servers import PASSWORD, own_database
from madoguchi.testing.desk_process import MailSink, ServedDesk

SETUP = f"""
from madoguchi.accounts.models import User
from madoguchi.cases.models import Category
from madoguchi.cases.services import do_create_case
from madoguchi.customers.models import Customer, Identity
from madoguchi.mail.models import Mailbox
Mailbox.objects.create(name="こもれび堂", address="support@shop.example.jp", contact_address="info@komorebi.example.jp")
agent = User.objects.create_user(username="agent", password={PASSWORD!r}, display_name="田中 担当")
customer = Customer.objects.create(name="山田 太郎")
Identity.objects.create(customer=customer, kind="email", value="taro@example.jp")
case = do_create_case(actor=agent, customer=customer, subject="急須が届かない", channel="email",
                      category=Category.objects.first(), complaint="急須がまだ届きません。", assignee=agent)
print(case.pk)
"""

SCHEDULE = """
import datetime as dt
from django.utils import timezone
from madoguchi.accounts.models import User
from madoguchi.cases.models import Case
from madoguchi.mail.held import do_hold_reply
held = do_hold_reply(Case.objects.get(pk={pk}), author=User.objects.get(username="agent"), body="山田様、本日発送いたしました。",
                     cc=[], bcc=["quality@shop.example.jp"], send_at=timezone.now() + dt.timedelta(seconds={seconds}), approval=False)
print(held.send_at.timestamp())
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ServedDesk, MailSink]]:
    with own_database("mail_scheduled") as database_url, MailSink() as sink:
        desk = ServedDesk.create(tmp_path / "data", database_url, sink.port, MADOGUCHI_ADMIN_PASSWORD=PASSWORD)
        try:
            yield desk, sink
        finally:
            desk.stop()


def _replies(sink: MailSink) -> list[tuple[str, str]]:
    """The scheduled reply's deliveries: the mail whose envelope has the BCC (the desk's own
    automatic mails to the customer, such as the after-hours answer, have none)."""
    with sink._lock:
        ours = {mid for to, mid in sink.received if to == "quality@shop.example.jp"}
        return sorted((to, mid) for to, mid in sink.received if mid in ours)


@pytest.mark.e2e
def test_the_running_desk_sends_a_scheduled_reply_at_its_time_once(served: tuple[ServedDesk, MailSink]) -> None:
    desk, sink = served
    case_pk = desk.shell(SETUP)
    assert case_pk.isdigit()
    desk.start()
    send_at = float(desk.shell(SCHEDULE.format(pk=case_pk, seconds=45)))

    while time.time() < send_at - 3:
        assert not _replies(sink), "sent before its time"
        time.sleep(1)
    deadline = send_at + 75  # the task queued for its time, or at the latest the minute sweep
    while time.time() < deadline and len(_replies(sink)) < 2:
        time.sleep(0.5)
    arrived = time.time()
    got = _replies(sink)
    assert sorted(to for to, _mid in got) == ["quality@shop.example.jp", "taro@example.jp"], got
    assert got[0][1] == got[1][1]  # one mail, two envelope recipients
    assert arrived >= send_at
    with sink._lock:
        [message] = [m for m in sink.messages if str(m["Message-ID"]) == got[0][1]]
    assert message["Bcc"] is None and message["Reply-To"] == "info@komorebi.example.jp"
    sent_at = float(desk.shell("from madoguchi.mail.models import HeldReply\n"
                               "print(HeldReply.objects.get().interaction.outbound_mail.sent_at.timestamp())"))
    assert send_at <= sent_at <= send_at + 75, dt.timedelta(seconds=sent_at - send_at)

    # The minute sweep runs again: still one mail, the held reply marked sent.
    time.sleep(65)
    assert len(_replies(sink)) == 2
    assert desk.shell("from madoguchi.mail.models import HeldReply\nprint(HeldReply.objects.get().state)") == "sent"
