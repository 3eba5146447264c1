"""`madoguchi serve` on a fresh data folder: migrates, creates the first admin, serves the desk."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from http.cookiejar import CookieJar
from urllib.parse import urlencode

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, seconds: float = 180) -> None:  # a fresh migrate on a loaded machine: 90 s seen
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {seconds} s")


@pytest.fixture
def served(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MADOGUCHI_TASKS_IMMEDIATE", "REDIS_URL")}
    env.update(MADOGUCHI_DATA_DIR=str(tmp_path / "data"), MADOGUCHI_SMTP_PORT="0", PYTHONUNBUFFERED="1")
    log = open(tmp_path / "serve.log", "w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "madoguchi.cli", "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/login/")
        log.seek(0)
        yield port, log.read(), tmp_path / "data"
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def test_first_start_creates_an_admin_who_can_log_in_to_a_japanese_desk(served):
    port, output, data_dir = served
    match = re.search(r"ユーザー名: (\S+)\s+パスワード: (\S+)", output)
    assert match, output
    assert (data_dir / "madoguchi.sqlite3").exists()
    assert oct((data_dir / "secret_key").stat().st_mode & 0o777) == "0o600"

    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login_page = opener.open(f"http://127.0.0.1:{port}/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page).group(1)
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/login/",
        data=urlencode({"username": match.group(1), "password": match.group(2), "csrfmiddlewaretoken": token}).encode(),
        headers={"Referer": f"http://127.0.0.1:{port}/login/"},
    )
    inbox = opener.open(request).read().decode()
    assert "受信箱" in inbox and "自分の案件" in inbox
    css = opener.open(f"http://127.0.0.1:{port}/static/madoguchi/desk.css")
    assert css.status == 200


def test_the_data_folder_is_readable_by_this_user_only(served):
    """Issue 21, finding 5: the database (sessions, password hashes), its WAL, the task queue and
    uploads were 0644/0755. After a start and a login, nothing in the data folder is open to
    other local users."""
    port, _output, data_dir = served
    urllib.request.urlopen(f"http://127.0.0.1:{port}/login/").read()
    time.sleep(1)  # the worker has opened its queue
    loose = [f"{path} {oct(path.stat().st_mode & 0o777)}" for path in [data_dir, *data_dir.rglob("*")]
             if not path.is_symlink() and path.stat().st_mode & 0o077]
    assert not loose
    assert {"madoguchi.sqlite3", "tasks.sqlite3", "secret_key"} <= {p.name for p in data_dir.iterdir()}


def test_a_data_folder_made_with_loose_modes_is_fixed_at_start(tmp_path):
    data = tmp_path / "old-data"
    (data / "media" / "chat").mkdir(parents=True)
    (data / "media" / "chat" / "receipt.png").write_bytes(b"png")
    for path in (data, data / "media", data / "media" / "chat"):
        path.chmod(0o755)
    (data / "media" / "chat" / "receipt.png").chmod(0o644)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    subprocess.run([sys.executable, "-m", "madoguchi.cli", "check"], env={**env, "MADOGUCHI_DATA_DIR": str(data)},
                   check=True, capture_output=True, timeout=120)
    assert oct(data.stat().st_mode & 0o777) == "0o700"
    assert oct((data / "media" / "chat").stat().st_mode & 0o777) == "0o700"
    assert oct((data / "media" / "chat" / "receipt.png").stat().st_mode & 0o777) == "0o600"


def test_production_settings_pass_the_deploy_check_and_hash_with_argon2(tmp_path):
    """Issue 21, finding 6: `check --deploy` warned W004 (HSTS) and W008 (SSL redirect)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(MADOGUCHI_DATA_DIR=str(tmp_path / "data"), MADOGUCHI_HTTPS="true", MADOGUCHI_BEHIND_PROXY="true",
               # Production has its mail settings too (`madoguchi check` warns without them: ops/checks.py).
               MADOGUCHI_FROM_EMAIL="support@komorebi.example.jp", MADOGUCHI_SMTP_HOST="smtp.komorebi.example.jp",
               MADOGUCHI_SMTP_OUT_PORT="587", MADOGUCHI_SMTP_TLS="true")
    done = subprocess.run([sys.executable, "-m", "madoguchi.cli", "check", "--deploy", "--fail-level", "WARNING"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout
    code = ("from django.contrib.auth.hashers import make_password; from django.conf import settings\n"
            "print(make_password('長いパスフレーズ-2026'), settings.SECURE_PROXY_SSL_HEADER, settings.SECURE_HSTS_SECONDS)")
    shown = subprocess.run([sys.executable, "-m", "madoguchi.cli", "shell", "-c", code], env=env, capture_output=True,
                           text=True, timeout=120, check=True).stdout.strip().splitlines()[-1]
    assert shown.startswith("argon2$") and "HTTP_X_FORWARDED_PROTO" in shown and shown.endswith("31536000")
