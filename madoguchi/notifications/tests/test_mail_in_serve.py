"""Notifications by mail in the process a shop runs (`madoguchi serve` with its embedded worker,
on SQLite or PostgreSQL as the suite runs): a handover made while the desk runs reaches the
agent's mail server, and the lead's daily summary comes at the time the lead chose, once,
with the team's open cases, SLA breaches, promises due today and low scores. Nothing here
calls a job: the test writes data and watches the mail server."""

from __future__ import annotations

from collections.abc import Iterator
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pytest

from madoguchi.chat.tests.servers import PASSWORD, own_database
from madoguchi.testing.desk_process import MailSink, ServedDesk, wait_for

SETUP = f"""
import datetime as dt
from django.utils import timezone
from madoguchi.accounts.models import Role, Team, User
from madoguchi.cases import services
from madoguchi.cases.models import Case, Category, Channel, Commitment
from madoguchi.customers.models import Customer
from madoguchi.metrics.models import SlaBreach, Survey, FollowUp
from madoguchi.notifications.models import MailPreference
team = Team.objects.create(name="お客様窓口1課")
lead = User.objects.create_user(username="lead", password={PASSWORD!r}, display_name="佐藤 リーダー", role=Role.LEAD,
                                team=team, email="lead@shop.example.jp")
team.lead = lead
team.save()
agent = User.objects.create_user(username="agent", password={PASSWORD!r}, display_name="田中 担当", team=team,
                                 email="agent@shop.example.jp")
other = User.objects.create_user(username="other", password={PASSWORD!r}, display_name="鈴木 担当", team=team,
                                 email="other@shop.example.jp")
now = timezone.localtime()
cases = [Case.objects.create(customer=Customer.objects.create(name=f"お客様{{i}}"), subject=f"商品が届かない{{i}}",
                             channel=Channel.PHONE, team=team, received_at=timezone.now(), assignee=other, status="open",
                             category=Category.objects.first(), complaint="注文した急須が届きません。") for i in range(3)]
SlaBreach.objects.create(case=cases[0], target="first", due_at=timezone.now() - dt.timedelta(hours=1))
end_of_day = now.replace(hour=23, minute=59, second=0, microsecond=0)
Commitment.objects.create(case=cases[1], description="配送業者に確認して折り返す", owner=other, due_at=end_of_day)
survey = Survey.objects.create(case=cases[2], nonce="n1", state="sent", rating=1, answered_at=timezone.now())
FollowUp.objects.create(case=cases[2], survey=survey, assigned_to=lead)
# The summary at the minute now (JST): the running desk's minute job finds it due.
MailPreference.objects.create(user=lead, summary_time=now.time().replace(second=0, microsecond=0))
print(cases[0].pk)
"""

HANDOVER = """
from madoguchi.accounts.models import User
from madoguchi.cases import services
from madoguchi.cases.models import Case
case = Case.objects.get(pk={pk})
services.do_hand_over(case, actor=User.objects.get(username="other"), expected_version=case.version, note="午後はご在宅",
                      to_user=User.objects.get(username="agent"))
print("ok")
"""


def _subject(message: Any) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _body(message: Any) -> str:
    return message.get_payload(decode=True).decode(message.get_content_charset() or "utf-8")


def _mails_to(sink: MailSink, address: str) -> list[Any]:
    with sink._lock:
        return [m for m in sink.messages if address in str(m["To"])]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ServedDesk, MailSink]]:
    with own_database("notify_mail") as database_url, MailSink() as sink:
        desk = ServedDesk.create(tmp_path / "data", database_url, sink.port, MADOGUCHI_SITE_URL="https://desk.example.jp",
                                 MADOGUCHI_ADMIN_PASSWORD=PASSWORD)
        try:
            yield desk, sink
        finally:
            desk.stop()


@pytest.mark.e2e
def test_the_running_desk_mails_a_handover_and_the_leads_daily_summary_once(served: tuple[ServedDesk, MailSink]) -> None:
    desk, sink = served
    case_pk = desk.shell(SETUP)
    assert case_pk.isdigit()
    desk.start()

    summary = wait_for(lambda: [m for m in _mails_to(sink, "lead@shop.example.jp") if "毎日のまとめ" in _subject(m)], 100,
                        "the lead's daily summary from the running desk")[0]
    text = _body(summary)
    assert "【お客様窓口1課】" in text
    assert "対応中の案件: 3件" in text
    assert "SLA の超過（24時間以内）: 1件" in text and f"https://desk.example.jp/cases/{case_pk}/" in text
    assert "今日が期限の約束: 1件" in text and "配送業者に確認して折り返す" in text
    assert "フォローが必要な低評価: 1件" in text and "満足度 1" in text

    # A handover while the desk runs: the task queued after the commit mails the agent.
    assert desk.shell(HANDOVER.format(pk=case_pk)) == "ok"
    handover = wait_for(lambda: _mails_to(sink, "agent@shop.example.jp"), 60, "the handover mail")[0]
    assert _subject(handover).startswith("【自分への引き継ぎ】") and "鈴木 担当さんから引き継ぎました" in _body(handover)
    # Not about their own action. (Other mails may reach them: near midnight JST their promise due
    # at 23:59 is "due soon", and the running desk rightly mails that.)
    assert not [m for m in _mails_to(sink, "other@shop.example.jp") if "引き継ぎ" in _subject(m)]

    # The minute job runs again (and again): still one summary today.
    ran = desk.shell("from madoguchi.jobs.models import JobRun\n"
                     "print(JobRun.objects.get(name='madoguchi.notifications.tasks.daily_summary_job').runs)")
    wait_for(lambda: int(desk.shell("from madoguchi.jobs.models import JobRun\n"
                                     "print(JobRun.objects.get(name='madoguchi.notifications.tasks.daily_summary_job').runs)"))
              >= int(ran) + 1, 90, "another run of the summary job")
    assert len([m for m in _mails_to(sink, "lead@shop.example.jp") if "毎日のまとめ" in _subject(m)]) == 1
