"""The late-notice job runs in the process a shop runs (`madoguchi serve` with its embedded
worker): the test writes a promise that will be late and waits for the running desk to prepare
the notice, once, without sending anything to the customer."""

from __future__ import annotations

import pytest

from madoguchi.chat.tests.servers import PASSWORD
from madoguchi.jobs.tests.test_jobs_in_serve import _out, _wait_until, desk  # noqa: F401 - the fixture

SETUP = f"""
import datetime as dt
from django.utils import timezone
from madoguchi.accounts.models import Role, Team, User
from madoguchi.cases.models import Case, Category, Channel, Commitment
from madoguchi.customers.models import Customer
team = Team.objects.create(name="お客様窓口1課")
agent = User.objects.create_user(username="agent", password={PASSWORD!r}, display_name="田中 担当", team=team)
customer = Customer.objects.create(name="山田 太郎")
case = Case.objects.create(customer=customer, subject="商品が届かない", channel=Channel.PHONE, team=team, received_at=timezone.now(),
                           assignee=agent, status="open", category=Category.objects.first(), complaint="注文した急須が届きません。")
promise = Commitment.objects.create(case=case, description="発送日をお電話でお知らせします", owner=agent,
                                    due_at=timezone.now() + dt.timedelta(minutes=30))
Commitment.objects.filter(pk=promise.pk).update(created_at=timezone.now() - dt.timedelta(hours=20))
print(case.pk)
"""

PREPARED = """
from madoguchi.progress.models import LateNotice
from madoguchi.cases.models import Interaction
from madoguchi.notifications.models import Notification
print(LateNotice.objects.filter(state="draft").count(), Interaction.objects.filter(kind="outbound").count(),
      Notification.objects.filter(kind="late_notice", user__username="agent").count())
"""


@pytest.mark.e2e
def test_the_running_desk_prepares_the_late_notice_once_and_sends_nothing(desk):  # noqa: F811
    shop, start, _log = desk
    shop.shell(SETUP)
    start()
    _wait_until(lambda: _out(shop, PREPARED).split()[0] == "1", 90, "the late notice prepared by the running desk")
    assert _out(shop, PREPARED) == "1 0 1"
    job = _out(shop, "from madoguchi.jobs.models import JobRun\n"
                     "print(JobRun.objects.get(name='madoguchi.progress.tasks.prepare_late_notices_job').runs >= 1)")
    assert job == "True"
