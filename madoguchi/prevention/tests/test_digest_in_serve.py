"""The weekly prevention digest in the process a shop runs (`madoguchi serve` with its embedded
worker, on SQLite or PostgreSQL as the suite runs): the minute job finds the week's digest due
and every staff member's mail server gets it, once. Nothing here calls a job: the test writes
data and watches the mail server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from madoguchi.chat.tests.servers import PASSWORD, own_database
from madoguchi.notifications.tests.test_mail_in_serve import _body, _subject
from madoguchi.testing.desk_process import MailSink, ServedDesk, wait_for

SETUP = f"""
import datetime as dt
from django.utils import timezone
from madoguchi.accounts.models import Role, Team, User
from madoguchi.prevention.models import Countermeasure
from madoguchi.prevention.tests.conftest import generate
from madoguchi.testing.factories import category
team = Team.objects.create(name="お客様窓口1課")
lead = User.objects.create_user(username="lead", password={PASSWORD!r}, display_name="佐藤 リーダー", role=Role.LEAD,
                                team=team, email="lead@shop.example.jp")
User.objects.create_user(username="agent", password={PASSWORD!r}, display_name="田中 担当", team=team,
                         email="agent@shop.example.jp")
fix = timezone.localdate() - dt.timedelta(days=35)
generate(fix, before=36, after=9)
c = Countermeasure.objects.create(title="佐川急便の置き配をやめ、対面受け取りに変更", cause="carrier", done_by=lead,
                                  done_on=fix, category=category("delivery"), carrier="sagawa")
print(c.pk)
"""


def _digests(sink: MailSink, address: str) -> list[Any]:
    with sink._lock:
        return [m for m in sink.messages if address in str(m["To"]) and "再発防止の週報" in _subject(m)]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ServedDesk, MailSink]]:
    import datetime as dt
    from zoneinfo import ZoneInfo

    today = dt.datetime.now(ZoneInfo("Asia/Tokyo")).weekday()
    with own_database("prevention_digest") as database_url, MailSink() as sink:
        # This week's digest day is today, from midnight: due as soon as the desk runs.
        desk = ServedDesk.create(tmp_path / "data", database_url, sink.port, MADOGUCHI_SITE_URL="https://desk.example.jp",
                                 MADOGUCHI_ADMIN_PASSWORD=PASSWORD, MADOGUCHI_PREVENTION_DIGEST_WEEKDAY=str(today),
                                 MADOGUCHI_PREVENTION_DIGEST_HOUR="0")
        try:
            yield desk, sink
        finally:
            desk.stop()


@pytest.mark.e2e
def test_the_running_desk_mails_the_weekly_prevention_digest_to_everyone_once(served: tuple[ServedDesk, MailSink]) -> None:
    desk, sink = served
    pk = desk.shell(SETUP)
    assert pk.isdigit()
    desk.start()

    digest = wait_for(lambda: _digests(sink, "agent@shop.example.jp"), 100, "the weekly digest from the running desk")[0]
    text = _body(digest)
    assert "■ 佐川急便の置き配をやめ、対面受け取りに変更" in text and "根本原因: 配送業者" in text
    assert "偶然では説明しにくい減少" in text and f"https://desk.example.jp/prevention/{pk}/" in text
    wait_for(lambda: _digests(sink, "lead@shop.example.jp"), 30, "the lead's copy")

    # The minute job runs again: still one digest this week.
    name = "madoguchi.prevention.tasks.weekly_digest_job"
    ran = int(desk.shell(f"from madoguchi.jobs.models import JobRun\nprint(JobRun.objects.get(name={name!r}).runs)"))
    wait_for(lambda: int(desk.shell(f"from madoguchi.jobs.models import JobRun\nprint(JobRun.objects.get(name={name!r}).runs)"))
              >= ran + 1, 90, "another run of the digest job")
    assert len(_digests(sink, "agent@shop.example.jp")) == 1 and len(_digests(sink, "lead@shop.example.jp")) == 1
