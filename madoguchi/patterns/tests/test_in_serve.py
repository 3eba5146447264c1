"""On the process users run: `madoguchi serve` places complaints in clusters by itself. The
cases a desk had before it started (their deferred work lost) are placed by the periodic
job, which also flags this week's spike and tells the lead; a mail that arrives while it runs
is filed, read and joins its carrier's cluster through the worker, off the request path."""

from __future__ import annotations

import os
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

import pytest

from madoguchi.testing.desk_process import MailSink, Sending, ServedDesk, send_until_accepted
from madoguchi.tests.test_embedded_worker import wait_until
from madoguchi.triage.tests.conftest import put_model

SETUP = """
import datetime as dt
from madoguchi.accounts.models import Role, User
from madoguchi.jobs.models import PendingWork
from madoguchi.patterns.tests.helpers import complaint_case, weeks_ago
User.objects.create_user(username="lead", password="pass-窓口-2026", role=Role.LEAD, email="lead@example.jp")
late = "到着予定日を過ぎても荷物が届きません。追跡を見ても配送中のままです。"
for ago, count in [(8, 1), (7, 2), (6, 1), (5, 2), (4, 1), (3, 2), (2, 1), (1, 2), (0, 9)]:
    for i in range(count):
        complaint_case(late, carrier="yamato", received_at=weeks_ago(ago, hours=1 + i))
PendingWork.objects.all().delete()  # the work the readings left is lost: only the periodic job places them
print("ok")
"""

PLACED = """
from madoguchi.patterns.models import Cluster, Member
from madoguchi.notifications.models import Notification
c = Cluster.objects.filter(carrier="yamato").first()
print(f"{Member.objects.count()} {c and c.size} {c and c.spike_week is not None} {Notification.objects.filter(kind='pattern_spike').count()}")
"""

MAIL_CASE = """
from madoguchi.cases.models import Case
from madoguchi.patterns.models import Member
case = Case.objects.filter(subject__contains="荷物が届かない").first()
member = Member.objects.filter(case=case).select_related("cluster").first()
print(member and f"{member.cluster.carrier} {member.cluster.size}")
"""


def carrier_mail() -> tuple[str, bytes]:
    message = EmailMessage()
    message["From"] = "鈴木 花子 <hanako@example.jp>"
    message["To"] = "support@example.jp"
    message["Subject"] = "荷物が届かないのですが"
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = "<patterns-serve-1@example.jp>"
    message.set_content("ヤマトの追跡では到着予定日を過ぎても配送中のまま、荷物がまだ届きません。"
                        "どうなっているのか確認してください。\n\n鈴木\n", charset="utf-8")
    return "hanako@example.jp", message.as_bytes()


@pytest.fixture
def desk(tmp_path: Path, starter_model_bytes: bytes) -> Iterator[ServedDesk]:
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("the process layout is the same on both databases")
    with MailSink() as sink:
        served = ServedDesk.create(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'desk.sqlite3'}", sink.port,
                                   MADOGUCHI_MAIL_ACK="false")
        put_model(tmp_path / "data", starter_model_bytes)
        try:  # started by the test, after it wrote what the desk had before
            yield served
        finally:
            served.stop()


@pytest.mark.own_database
def test_serve_places_complaints_flags_the_spike_and_places_a_new_mail(desk: ServedDesk) -> None:
    assert desk.shell(SETUP) == "ok"
    assert desk.shell(PLACED) == "0 None None 0"
    desk.start()
    wait_until(lambda: desk.shell(PLACED) == "21 21 True 1", 120, "the periodic job placed the cases and flagged the spike")
    progress = Sending()
    send_until_accepted(desk.smtp_port, [carrier_mail()], progress, seconds=90)
    assert progress.accepted == 1
    wait_until(lambda: desk.shell(MAIL_CASE) == "yamato 22", 120, "the mail filed, read and placed in the carrier's cluster")
