"""`madoguchi check` (issue 21): what is misconfigured, in Japanese, non-zero on errors; run as
users run it (a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

GOOD_MAIL = {"MADOGUCHI_FROM_EMAIL": "support@komorebi.example.jp", "MADOGUCHI_SMTP_HOST": "smtp.komorebi.example.jp",
             "MADOGUCHI_SMTP_OUT_PORT": "587", "MADOGUCHI_SMTP_TLS": "true"}


def check(data: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    return subprocess.run([sys.executable, "-m", "madoguchi.cli", "check"], env={**base, "MADOGUCHI_DATA_DIR": str(data), **env},
                          capture_output=True, text=True, timeout=120)


def test_a_sound_embedded_setup_passes(tmp_path):
    done = check(tmp_path / "data", **GOOD_MAIL)
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout


def test_scale_mode_on_sqlite_with_redis_unreachable_is_an_error(tmp_path):
    done = check(tmp_path / "data", REDIS_URL="redis://:hunter2-secret@127.0.0.1:1/0", **GOOD_MAIL)
    assert done.returncode != 0
    assert "madoguchi.E001" in done.stderr and "データベースが SQLite です" in done.stderr
    assert "madoguchi.E002" in done.stderr and "Redis に接続できません" in done.stderr
    assert "hunter2-secret" not in done.stderr  # the password is not printed


def test_https_without_the_proxy_setting_is_an_error_and_with_it_passes(tmp_path):
    done = check(tmp_path / "data", MADOGUCHI_HTTPS="true", **GOOD_MAIL)
    assert done.returncode != 0 and "madoguchi.E003" in done.stderr and "MADOGUCHI_BEHIND_PROXY" in done.stderr
    assert check(tmp_path / "data", MADOGUCHI_HTTPS="true", MADOGUCHI_BEHIND_PROXY="true", **GOOD_MAIL).returncode == 0


def test_a_readable_secret_key_is_an_error(tmp_path):
    data = tmp_path / "data"
    assert check(data, **GOOD_MAIL).returncode == 0
    (data / "secret_key").chmod(0o644)
    done = check(data, **GOOD_MAIL)
    assert done.returncode != 0 and "madoguchi.E004" in done.stderr and "chmod 600" in done.stderr


def test_missing_mail_settings_are_warned_about(tmp_path):
    done = check(tmp_path / "data")
    assert done.returncode == 0  # a warning: the desk still runs
    assert "madoguchi.W008" in done.stderr and "MADOGUCHI_FROM_EMAIL が設定されていません" in done.stderr
    assert "madoguchi.W009" in done.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any folder")
def test_a_data_folder_that_cannot_be_written_is_an_error(tmp_path):
    data = tmp_path / "data"
    assert check(data, **GOOD_MAIL).returncode == 0
    data.chmod(0o500)
    try:
        done = check(data, **GOOD_MAIL)
    finally:
        data.chmod(0o700)
    assert done.returncode != 0 and "madoguchi.E006" in done.stderr
