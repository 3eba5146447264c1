"""Real `madoguchi serve` processes for the end-to-end and multi-process chat tests.

pytest-django's live_server is WSGI (no WebSockets), so these tests start the real ASGI server
as subprocesses on free loopback ports, on a database of their own: a temporary SQLite file,
or a fresh PostgreSQL database when the suite runs on PostgreSQL. With Redis reachable, the
processes share the Redis channel layer (database 11, flushed first).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from madoguchi.testing.databases import create_postgres_database, drop_postgres_database, migrated

PASSWORD = "pass-窓口-2026"
# A database of the machine's Redis the tests flush: 11, or another for a second suite running
# at the same time (.ci/run runs the SQLite and PostgreSQL passes side by side).
REDIS_TEST_URL = f"redis://127.0.0.1:6379/{os.environ.get('MADOGUCHI_TEST_REDIS_DB', '11')}"
MADOGUCHI = str(Path(sys.executable).with_name("madoguchi"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_TEST_URL, socket_timeout=1).ping()
        return True
    except Exception:
        return False


@contextlib.contextmanager
def own_database(prefix: str = "chat_e2e") -> Iterator[str]:
    """A database only the servers use: PostgreSQL when the suite runs on it, else SQLite."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        with tempfile.TemporaryDirectory(prefix="chat-e2e-db-") as folder:
            yield f"sqlite:///{folder}/desk.sqlite3"
        return
    name = f"{prefix}_{os.getpid()}"
    # Created from the server's maintenance database (the one DATABASE_URL names need not
    # exist: pytest-django makes test_<name> from it; a benchmark names its own), as a copy
    # of the run's migrated template.
    made = create_postgres_database(url, name)
    try:
        yield made
    finally:
        drop_postgres_database(made)


SETUP = """
from madoguchi.accounts.models import Team, User
team, _ = Team.objects.get_or_create(name="チャット班")
for username, name in (("chat1", "佐藤 花子"), ("chat2", "鈴木 一郎")):
    u = User.objects.create_user(username=username, password={password!r}, display_name=name, team=team)
"""


@dataclass
class Desk:
    urls: list[str]
    shop_url: str
    env: dict[str, str]
    processes: list[subprocess.Popen] = field(default_factory=list)
    logs: list[Any] = field(default_factory=list)
    shop_pages: dict[str, str] = field(default_factory=dict)

    def shell(self, code: str) -> str:
        done = subprocess.run([MADOGUCHI, "shell", "-c", code], env=self.env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout


def _wait_up(url: str, process: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server at {url} exited with {process.returncode}; see serve-*.log")
        try:
            with urllib.request.urlopen(url + "/login/", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"server at {url} did not start")


def _shop_server(desk: Desk) -> ThreadingHTTPServer:
    class Shop(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = desk.shop_pages.get(self.path.split("?")[0], "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    port = int(desk.shop_url.rsplit(":", 1)[1])
    server = ThreadingHTTPServer(("127.0.0.1", port), Shop)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@contextlib.contextmanager
def running_desk(processes: int = 2, redis: bool | None = None, env: dict[str, str] | None = None,
                 worker: bool = False) -> Iterator[Desk]:
    """`processes` serve processes on one database (and Redis), plus a shop site on its own port.
    `env` adds or overrides environment variables of the servers (the benchmark's). With
    `worker`, each serve runs its embedded worker process (as `bin/start` does) instead of
    running tasks at once."""
    extra_env = env or {}
    use_redis = redis_available() if redis is None else redis
    with own_database() as database_url, tempfile.TemporaryDirectory(prefix="chat-e2e-") as data_dir:
        shop_url = f"http://127.0.0.1:{free_port()}"
        env = {
            **os.environ, "DATABASE_URL": database_url, "MADOGUCHI_DATA_DIR": data_dir,
            "MADOGUCHI_TASKS_IMMEDIATE": "false" if worker else "true", "MADOGUCHI_CHAT_BUSINESS_HOURS": "false",
            "MADOGUCHI_CHAT_ALLOWED_ORIGINS": shop_url, "MADOGUCHI_FORM_MIN_SECONDS": "1",
            "MADOGUCHI_SMTP_OUT_PORT": str(free_port()), "MADOGUCHI_ADMIN_PASSWORD": PASSWORD,
            "PYTHONUNBUFFERED": "1", "MADOGUCHI_SMTP_PORT": "0", **extra_env,
        }
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        if "REDIS_URL" in extra_env:  # a Redis of the test's own (testing/private_servers.py)
            pass
        elif use_redis:
            import redis

            redis.Redis.from_url(REDIS_TEST_URL).flushdb()
            env["REDIS_URL"] = REDIS_TEST_URL
        else:
            env.pop("REDIS_URL", None)
        ports = [free_port() for _ in range(processes)]
        desk = Desk(urls=[f"http://127.0.0.1:{p}" for p in ports], shop_url=shop_url, env=env)
        migrated(database_url, data_dir)
        desk.shell(SETUP.format(password=PASSWORD))
        shop = _shop_server(desk)
        try:
            for port in ports:
                # The log goes to a file: a pipe nobody reads would fill up and stall the server.
                log = open(Path(data_dir) / f"serve-{port}.log", "w")  # noqa: SIM115 - closed with the process
                desk.logs.append(log)
                desk.processes.append(subprocess.Popen(
                    [MADOGUCHI, "serve", *([] if worker else ["--no-worker"]), "--port", str(port)], env=env,
                    stdout=log, stderr=subprocess.STDOUT, text=True,
                ))
            for url, process in zip(desk.urls, desk.processes, strict=True):
                _wait_up(url, process)
            yield desk
        finally:
            shop.shutdown()
            for process in desk.processes:
                process.terminate()
            for process in desk.processes:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
            for log in desk.logs:
                log.close()


async def next_event(ws: Any, kind: str, timeout: float = 10) -> dict[str, Any]:
    """The next event of `kind` on a websocket, skipping the others."""
    while True:
        event: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if event["type"] == kind:
            return event


def login_cookie(base: str, username: str, password: str = PASSWORD) -> str:
    """A real login through the login form; returns the Cookie header for that session."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    data = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token}).encode()
    opener.open(urllib.request.Request(base + "/login/", data=data, headers={"Referer": base + "/login/"}), timeout=10)
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def shop_page(desk: Desk, body: str = "") -> str:
    widget = f'<script src="{desk.urls[0]}/chat/widget.js" data-prechat="name,email,order"></script>'
    return f'<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"><title>テストショップ</title></head><body><h1>テストショップ</h1>{body}{widget}</body></html>'
