"""Server-Timing (madoguchi/server_timing.py): on only when MADOGUCHI_SERVER_TIMING says so,
read through `madoguchi serve` as bench/http_bench.py reads it."""

from __future__ import annotations

import urllib.request
from pathlib import Path

from django.test import Client

from madoguchi.server_timing import header_values
from madoguchi.testing.desk_process import ServedDesk, free_port


def test_the_header_is_read_back_into_figures() -> None:
    got = header_values('app;dur=12.5, cpu;dur=8.0, db;dur=3.2;desc="7"')
    assert got == {"app": 12.5, "cpu": 8.0, "db": 3.2, "queries": 7.0}
    assert header_values("") == {}


def test_off_by_default(db: None) -> None:
    assert "Server-Timing" not in Client().get("/login/")


def test_serve_times_its_requests_when_told(tmp_path: Path) -> None:
    desk = ServedDesk.create(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'desk.sqlite3'}", free_port(),
                             MADOGUCHI_SERVER_TIMING="true")
    desk.start()
    try:
        with urllib.request.urlopen(desk.url + "/login/", timeout=10) as response:
            header = response.headers.get("Server-Timing")
    finally:
        desk.stop()
    figures = header_values(header or "")
    assert figures["app"] > 0 and figures["cpu"] > 0 and "queries" in figures  # the login form reads nothing
    assert figures["app"] >= figures["db"]
