"""`madoguchi import-posts` as a shop runs it, in a process of its own on a database of its own:
on a terminal a progress bar, piped only the summary with the lines of bad rows; again, nothing
changes; a file that is not posts is refused in Japanese."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import termios

import pytest

from madoguchi.listening.tests import samples
from madoguchi.shop.tests.test_import_command_process import _read_all
from madoguchi.testing.databases import migrated
from madoguchi.testing.desk_process import MADOGUCHI
from madoguchi.triage.tests.conftest import put_model


@pytest.mark.own_database
def test_import_posts_draws_a_progress_bar_on_a_terminal_and_reports_bad_lines(tmp_path, starter_model_bytes) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "REDIS_URL", "DATABASE_URL")}
    env.update(MADOGUCHI_DATA_DIR=str(tmp_path / "data"), DATABASE_URL=f"sqlite:///{tmp_path / 'desk.sqlite3'}",
               MADOGUCHI_TASKS_IMMEDIATE="false")
    migrated(env["DATABASE_URL"], env["MADOGUCHI_DATA_DIR"])
    put_model(tmp_path / "data", starter_model_bytes)
    rows = list(samples.posts(10_000))
    rows[2]["id"] = ""  # line 2 + rows 0 and 1 (row 0 has a line break in its text) = line 5
    path = tmp_path / "listening_export.csv"
    path.write_bytes(samples.csv_file(rows))

    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    process = subprocess.Popen([MADOGUCHI, "import-posts", str(path)], env=env, stdout=subprocess.PIPE, stderr=secondary)
    os.close(secondary)
    terminal = _read_all(primary, process).decode("utf-8", "replace")
    stdout = process.stdout.read().decode() if process.stdout else ""
    assert process.wait(timeout=60) == 0
    os.close(primary)
    assert "投稿の取り込み" in terminal and "100%" in terminal
    assert "取り込み完了（CSV）: 新規 9999 件、更新 0 件、変更なし 0 件、取り込めなかった投稿 1 件" in stdout
    assert "  5 行目: 投稿IDがありません。" in stdout

    again = subprocess.run([MADOGUCHI, "import-posts", str(path)], env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and again.stderr == ""
    assert "新規 0 件、更新 0 件、変更なし 9999 件" in again.stdout

    other = tmp_path / "customers.csv"
    other.write_text("顧客番号,氏名\n1,山田 花子\n", encoding="utf-8")
    refused = subprocess.run([MADOGUCHI, "import-posts", str(other)], env=env, capture_output=True, text=True, timeout=300)
    assert refused.returncode != 0 and "投稿ファイルの形式を判別できません" in refused.stderr
