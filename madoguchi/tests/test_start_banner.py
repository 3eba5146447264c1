"""First steps: `--help` explains the settings and creates nothing; the start banner says every
address the desk listens on, where replies are sent, and how to log in."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from madoguchi.tests.test_serve import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_LISTED = ("MADOGUCHI_PORT", "MADOGUCHI_HOST", "MADOGUCHI_DATA_DIR", "DATABASE_URL", "REDIS_URL",
                   "MADOGUCHI_SMTP_PORT", "MADOGUCHI_SMTP_HOST", "MADOGUCHI_SMTP_OUT_PORT", "MADOGUCHI_LANGUAGE",
                   "MADOGUCHI_TIME_ZONE", "MADOGUCHI_NO_DEMO")


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    drop = ("DATABASE_URL", "MADOGUCHI_TASKS_IMMEDIATE", "REDIS_URL", "MADOGUCHI_SMTP_HOST", "MADOGUCHI_SMTP_OUT_PORT",
            "DJANGO_SETTINGS_MODULE")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(MADOGUCHI_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1", **extra)
    return env


@pytest.mark.parametrize("command", [["bin/start", "--help"], [sys.executable, "-m", "madoguchi.cli", "serve", "--help"]])
def test_help_lists_the_settings_with_defaults_and_creates_nothing(tmp_path: Path, command: list[str]) -> None:
    data_dir = tmp_path / "data"
    done = subprocess.run(command, cwd=ROOT, env=clean_env(data_dir), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for name in SETTINGS_LISTED:
        assert name in done.stdout, name
    assert "--port" in done.stdout and "--host" in done.stdout
    assert "MADOGUCHI_SMTP_PORT（2525）" in done.stdout and "MADOGUCHI_SMTP_OUT_PORT（25）" in done.stdout
    assert not data_dir.exists(), "--help created the data folder"
    assert "デモデータを読み込んでいます" not in done.stdout


@pytest.fixture
def start(tmp_path: Path) -> Iterator:  # type: ignore[type-arg]
    """Run `madoguchi serve` on the data folder until the desk answers; return its output."""
    processes: list[subprocess.Popen[bytes]] = []

    def run(data_dir: Path, **extra: str) -> tuple[str, int, int]:
        port, smtp_port = free_port(), free_port()
        log_path = tmp_path / f"serve-{port}.log"
        with open(log_path, "w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "madoguchi.cli", "serve", "--port", str(port)], cwd=ROOT, stdout=log,
                stderr=subprocess.STDOUT, env=clean_env(data_dir, MADOGUCHI_SMTP_PORT=str(smtp_port), **extra),
            )
        processes.append(process)
        wait_for(f"http://127.0.0.1:{port}/login/")
        return log_path.read_text(), port, smtp_port

    yield run
    for process in processes:
        process.terminate()
        process.wait(timeout=20)


def test_banner_lists_web_smtp_and_where_replies_go(tmp_path: Path, start) -> None:  # type: ignore[no-untyped-def]
    output, port, smtp_port = start(tmp_path / "data")
    assert f"画面（Web）: http://127.0.0.1:{port}/" in output
    assert f"メール受信（SMTP）: 127.0.0.1:{smtp_port}" in output
    assert "返信メールの送信先: 127.0.0.1:25（MADOGUCHI_SMTP_HOST / MADOGUCHI_SMTP_OUT_PORT で変更）" in output
    assert "注意" in output and "返信メールは送られません" in output
    assert "最初の管理者を作成しました" in output
    assert "既存の利用者" not in output


def test_banner_after_the_demo_names_the_accounts_file_and_the_admin(tmp_path: Path, start) -> None:  # type: ignore[no-untyped-def]
    data_dir = tmp_path / "data"
    demo = subprocess.run([sys.executable, "-m", "madoguchi.cli", "demo", "--cases", "12"], cwd=ROOT,
                          env=clean_env(data_dir, MADOGUCHI_TASKS_IMMEDIATE="1"), capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stderr
    # Only the summary on the console: the demo's accounts are in the access log, not one line each here.
    assert "アカウントを作成" not in demo.stdout + demo.stderr
    accounts = data_dir / "demo-accounts.txt"
    assert accounts.read_text().splitlines()[2].startswith("admin\t")  # the admin created with the demo is in the file
    output, _port, _smtp = start(data_dir, MADOGUCHI_SMTP_HOST="smtp.example.jp", MADOGUCHI_SMTP_OUT_PORT="587")
    assert str(accounts) in output
    assert "管理者アカウント（admin）は作成済みです" in output
    assert "既存の利用者" not in output and "最初の管理者を作成しました" not in output
    assert "返信メールの送信先: smtp.example.jp:587" in output and "注意" not in output
