"""`madoguchi import-orders` as a shop runs it: the real console command in a process of its own,
on a database of its own. On a terminal it draws a progress bar; piped, it prints only the summary."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
import time

import pytest

from madoguchi.shop.tests.samples import realistic_orders, shopify_file
from madoguchi.testing.databases import migrated
from madoguchi.testing.desk_process import MADOGUCHI

COUNTS = ("from madoguchi.shop.models import Order, OrderItem, ImportRun\n"
          "print(Order.objects.count(), OrderItem.objects.count(), ImportRun.objects.count())")


def _read_all(fd: int, process: subprocess.Popen[bytes], seconds: float = 300) -> bytes:
    out = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _w, _x = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            out += chunk
        elif process.poll() is not None:
            break
    return out


@pytest.mark.own_database
def test_the_command_imports_with_a_progress_bar_on_a_terminal_and_none_when_piped(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "REDIS_URL", "DATABASE_URL")}
    env.update(MADOGUCHI_DATA_DIR=str(tmp_path / "data"), DATABASE_URL=f"sqlite:///{tmp_path / 'desk.sqlite3'}",
               MADOGUCHI_TASKS_IMMEDIATE="false")
    migrated(env["DATABASE_URL"], env["MADOGUCHI_DATA_DIR"])
    path = tmp_path / "orders_export_1.csv"
    path.write_bytes(shopify_file(list(realistic_orders(300))))

    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a 100-column terminal
    process = subprocess.Popen([MADOGUCHI, "import-orders", str(path)], env=env, stdout=subprocess.PIPE,
                               stderr=secondary)
    os.close(secondary)
    terminal = _read_all(primary, process).decode("utf-8", "replace")
    stdout = process.stdout.read().decode() if process.stdout else ""
    assert process.wait(timeout=60) == 0
    os.close(primary)
    assert "注文の取り込み" in terminal and "100%" in terminal  # tqdm's bar, drawn to the end
    assert "取り込み完了（Shopify）: 新規 300 件、更新 0 件、変更なし 0 件、取り込めなかった注文 0 件" in stdout

    again = subprocess.run([MADOGUCHI, "import-orders", str(path)], env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and again.stderr == ""  # no bar when not a terminal
    assert "新規 0 件、更新 0 件、変更なし 300 件" in again.stdout
    counts = subprocess.run([MADOGUCHI, "shell", "-c", COUNTS], env=env, capture_output=True, text=True, check=True,
                            timeout=300).stdout.split()[-3:]
    assert counts[0] == "300" and int(counts[1]) > 300 and counts[2] == "2"

    unknown = tmp_path / "customers.csv"
    unknown.write_text("顧客番号,氏名\n1,山田 花子\n", encoding="utf-8")
    refused = subprocess.run([MADOGUCHI, "import-orders", str(unknown)], env=env, capture_output=True, text=True, timeout=300)
    assert refused.returncode != 0 and "注文ファイルの形式を判別できません" in refused.stderr
