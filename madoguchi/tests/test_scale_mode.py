"""The scale mode by environment alone (issue 21): PostgreSQL and Redis, two web processes
(`serve --no-worker`) and two workers (`madoguchi worker`, one with `--listeners` for the SMTP
receiver). A customer's mail reaches the receiver, a worker files it, it is answered once and an
agent on the other web process sees it; a chat visitor on one web process talks with an agent
on the other. Runs when the suite runs on PostgreSQL (`.ci/run` with CI=true)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from madoguchi.chat.tests.servers import (
    MADOGUCHI,
    PASSWORD,
    REDIS_TEST_URL,
    SETUP,
    login_cookie,
    own_database,
    redis_available,
)
from madoguchi.chat.tests.test_multiprocess import _talk
from madoguchi.testing.databases import migrated
from madoguchi.testing.desk_process import (
    MailSink,
    Sending,
    customer_mail,
    free_port,
    send_until_accepted,
)

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres") or not redis_available(),
    reason="the scale mode runs on PostgreSQL and Redis (the suite's PostgreSQL run)",
)
SHOP = "https://shop.example.jp"


@contextmanager
def scale_desk(data_dir: Path, sink_port: int) -> Iterator[tuple[list[str], int, dict[str, str]]]:
    """Two web processes and two workers on one database and Redis; (web URLs, SMTP port, env)."""
    import redis

    redis.Redis.from_url(REDIS_TEST_URL).flushdb()
    smtp_port = free_port()
    with own_database("scale_mode") as database_url:
        env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE")}
        env.update(DATABASE_URL=database_url, REDIS_URL=REDIS_TEST_URL, MADOGUCHI_DATA_DIR=str(data_dir),
                   MADOGUCHI_TASKS_IMMEDIATE="false", MADOGUCHI_SMTP_PORT="0", MADOGUCHI_SMTP_OUT_PORT=str(sink_port),
                   MADOGUCHI_CHAT_ALLOWED_ORIGINS=SHOP, MADOGUCHI_CHAT_BUSINESS_HOURS="false",
                   MADOGUCHI_ADMIN_PASSWORD=PASSWORD, MADOGUCHI_LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
        migrated(database_url, str(data_dir))
        subprocess.run([MADOGUCHI, "shell", "-c", SETUP.format(password=PASSWORD)], env=env, check=True, timeout=120)
        ports = [free_port(), free_port()]
        commands = [([MADOGUCHI, "serve", "--no-worker", "--port", str(port)], env) for port in ports]
        commands.append(([MADOGUCHI, "worker", "--workers", "2", "--listeners"], {**env, "MADOGUCHI_SMTP_PORT": str(smtp_port)}))
        commands.append(([MADOGUCHI, "worker", "--workers", "2"], env))
        processes = []
        try:
            for n, (command, process_env) in enumerate(commands):
                log = open(data_dir / f"process-{n}.log", "w")  # noqa: SIM115 - closed with the process
                processes.append(subprocess.Popen(command, env=process_env, stdout=log, stderr=subprocess.STDOUT))
            urls = [f"http://127.0.0.1:{port}" for port in ports]
            for url in urls:
                _wait(lambda url=url: _answers(url + "/login/"), 180, f"{url} up", processes)
            yield urls, smtp_port, env
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


def _wait(check, seconds: float, what: str, processes: list[subprocess.Popen] | None = None) -> None:  # type: ignore[no-untyped-def, type-arg]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        for process in processes or []:
            assert process.poll() is None, f"a process exited with {process.returncode} while waiting for {what}"
        time.sleep(0.3)
    raise AssertionError(f"{what} not within {seconds} s")


def _inbox(url: str, cookie: str) -> str:
    request = urllib.request.Request(f"{url}/?queue=all", headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read().decode()


def test_a_mail_and_a_chat_across_two_web_processes_and_two_workers(tmp_path: Path) -> None:
    with MailSink() as sink, scale_desk(tmp_path, sink.port) as (urls, smtp_port, _env):
        sender, mail = customer_mail(7)
        progress = Sending()
        send_until_accepted(smtp_port, [(sender, mail)], progress, seconds=120)  # the receiver in worker 1
        assert progress.accepted == 1
        cookie = login_cookie(urls[1], "chat1")
        _wait(lambda: "KM-100007" in _inbox(urls[1], cookie), 120, "the mail filed and shown on the other web process")
        _wait(lambda: sink.per_recipient()[sender] >= 1, 120, "the automatic answer sent")
        time.sleep(5)  # two workers: a second answer would come now
        assert sink.per_recipient()[sender] == 1

        talk = _talk(urls[0].replace("http", "ws", 1), urls[1].replace("http", "ws", 1), cookie, SHOP)
        with ThreadPoolExecutor(1) as pool:
            to_agent, typing = pool.submit(asyncio.run, talk).result(timeout=120)
        assert to_agent["message"]["text"] == "二通目です"
        assert typing["sender"] == "customer"
