"""The jobs run in the process users run: `madoguchi serve` (the embedded desk bin/start starts)
with its own worker threads, on a database of its own (SQLite, or PostgreSQL when the suite
runs on it). Nothing here calls a job: the test only writes data and watches what the running
desk does with it, as a shop would.

Before the jobs app registered every app's tasks in every process, `serve` knew only the tasks
some import had happened to load: the overdue-promise escalation never ran there, and tasks a
command queued were dropped ("not found in TaskRegistry")."""

from __future__ import annotations

import os
import re
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from madoguchi.chat.tests.servers import (
    MADOGUCHI,
    PASSWORD,
    Desk,
    _wait_up,
    free_port,
    login_cookie,
    own_database,
)
from madoguchi.testing.databases import migrated

SETUP = f"""
import datetime as dt
from django.utils import timezone
from madoguchi.accounts.models import Role, Team, User
from madoguchi.cases.models import Case, Category, Channel, Commitment
from madoguchi.customers.models import Customer
team = Team.objects.create(name="お客様窓口1課")
lead = User.objects.create_user(username="lead", password={PASSWORD!r}, display_name="佐藤 リーダー", role=Role.LEAD, team=team)
team.lead = lead
team.save()
User.objects.create_superuser(username="admin", password={PASSWORD!r}, email="", role=Role.ADMIN, display_name="管理者")
agent = User.objects.create_user(username="agent", password={PASSWORD!r}, display_name="田中 担当", team=team)
customer = Customer.objects.create(name="山田 太郎")
case = Case.objects.create(customer=customer, subject="商品が届かない", channel=Channel.PHONE, team=team, received_at=timezone.now(),
                           assignee=agent, category=Category.objects.first(), complaint="注文した急須が届きません。")
Commitment.objects.create(case=case, description="配送業者に確認して折り返し電話する", owner=agent,
                          due_at=timezone.now() - dt.timedelta(hours=1))
print(case.pk)
"""

LEAD_NOTIFIED = """
from madoguchi.notifications.models import Notification
print(sum({what!r} in n.text for n in Notification.objects.filter(user__username="lead", kind="commitment_overdue")))
"""


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[tuple[Desk, Callable[[], None], Path]]:
    """A database and data folder for one `madoguchi serve` WITH its worker threads (the
    embedded default), tasks queued for real (not run inline as in the other tests); the test
    starts the process when it has written what should be there before the start."""
    with own_database() as database_url:
        env = {k: v for k, v in os.environ.items()
               if k not in ("MADOGUCHI_TASKS_IMMEDIATE", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
        env.update(DATABASE_URL=database_url, MADOGUCHI_DATA_DIR=str(tmp_path / "data"), MADOGUCHI_SMTP_PORT="0",
                   MADOGUCHI_SMTP_OUT_PORT=str(free_port()), MADOGUCHI_ADMIN_PASSWORD=PASSWORD, PYTHONUNBUFFERED="1")
        port = free_port()
        shop = Desk(urls=[f"http://127.0.0.1:{port}"], shop_url="", env=env)
        migrated(database_url, env["MADOGUCHI_DATA_DIR"])
        log_path = tmp_path / "serve.log"
        processes: list[subprocess.Popen[str]] = []

        def start() -> None:
            log = open(log_path, "w")  # noqa: SIM115 - closed with the process
            processes.append(subprocess.Popen([MADOGUCHI, "serve", "--port", str(port)], env=env, stdout=log,
                                              stderr=subprocess.STDOUT, text=True))
            _wait_up(shop.urls[0], processes[-1])

        try:
            yield shop, start, log_path
        finally:
            for process in processes:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()


def _out(shop: Desk, code: str) -> str:
    """What the code printed last (Django's shell prints its automatic imports first)."""
    lines = shop.shell(code).strip().splitlines()
    return lines[-1] if lines else ""


def _wait_until(check, seconds: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if check():
            return time.monotonic() - started
        time.sleep(1)
    raise AssertionError(f"{what}: not within {seconds} s")


def test_the_running_desk_escalates_overdue_promises_and_runs_tasks_queued_before_it_started(desk):
    shop, start, log_path = desk
    # Before the desk starts: a promise already an hour overdue, and a task a command queued
    # (indexing work, as `madoguchi shell` or any management command leaves it).
    shop.shell(SETUP)
    queued = _out(shop,
        "from madoguchi.jobs.models import PendingWork\n"
        "from madoguchi.jobs.tasks import complete_work_task\n"
        "from madoguchi.cases.models import Case\n"
        "row = PendingWork.objects.create(key='knowledge.index', items=[['case', Case.objects.get().pk]])\n"
        "complete_work_task([row.pk])\n"
        "print(row.pk)"
    )
    assert queued.isdigit()

    start()
    _wait_until(lambda: _out(shop, LEAD_NOTIFIED.format(what="折り返し電話")) == "1", 60,
                "the lead is told of the promise that was overdue when the desk started")
    _wait_until(lambda: _out(shop, "from madoguchi.knowledge.models import SearchDoc\n"
                                   "print(SearchDoc.objects.filter(kind='case').count())") == "1", 60,
                "the indexing task a command queued before the start is done")

    # A promise that falls due while the desk runs: the minute job catches it within its period.
    shop.shell(
        "import datetime as dt\nfrom django.utils import timezone\n"
        "from madoguchi.cases.models import Case, Commitment\nfrom madoguchi.accounts.models import User\n"
        "Commitment.objects.create(case=Case.objects.get(), description='返金の手続きを経理に依頼する',"
        " owner=User.objects.get(username='agent'), due_at=timezone.now() - dt.timedelta(seconds=1))"
    )
    waited = _wait_until(lambda: _out(shop, LEAD_NOTIFIED.format(what="返金の手続き")) == "1", 90,
                         "the lead is told of a promise that fell due while the desk ran")
    assert waited < 75  # one period (60 s) and the time to run it

    # The admins' page shows each job's last and next run.
    cookie = login_cookie(shop.urls[0], "admin")
    page = urllib.request.urlopen(urllib.request.Request(shop.urls[0] + "/settings/jobs/", headers={"Cookie": cookie}),
                                  timeout=10).read().decode()
    row = re.search(r'<tr data-job="madoguchi.cases.tasks.escalate_overdue_commitments_job".*?</tr>', page, re.S)
    assert row, page
    assert "期限を過ぎた約束をリーダーに知らせる" in row.group(0)
    assert "まだ実行されていません" not in row.group(0)
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", row.group(0))
    assert "not found in TaskRegistry" not in log_path.read_text()
