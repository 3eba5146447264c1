"""`madoguchi serve` runs its background jobs and mail receiver in one child process (the
embedded worker), so their CPU never holds the web's interpreter lock (issue 15, defect 2).
The child files mail, dies with the desk, and is started again when it dies alone."""

from __future__ import annotations

import os
import signal
import smtplib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from madoguchi.testing.desk_process import (
    MailSink,
    Sending,
    ServedDesk,
    customer_mail,
    send_until_accepted,
)

CASES = "from madoguchi.cases.models import Case\nprint(Case.objects.count())"


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def alive(pid: int) -> bool:
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    except FileNotFoundError:
        return False


def the_worker(desk: ServedDesk, seconds: float = 60) -> int:
    assert desk.process is not None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = [pid for pid in children(desk.process.pid) if alive(pid) and "madoguchi.worker_process" in cmdline(pid)]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError("serve has no embedded worker process")


def smtp_listener_in(pid: int, port: int) -> bool:
    """Whether the socket listening on `port` is one of process `pid`'s open files."""
    listening = {line.split()[9] for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
                 if line.split()[1].endswith(f":{port:04X}") and line.split()[3] == "0A"}
    try:
        sockets = {os.readlink(fd).strip("socket:[]") for fd in Path(f"/proc/{pid}/fd").iterdir()
                   if os.readlink(fd).startswith("socket:")}
    except FileNotFoundError:  # a file closed while listed
        return False
    return bool(listening) and listening <= sockets


def smtp_answers(port: int) -> bool:
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=2) as smtp:
            return smtp.noop()[0] == 250
    except OSError:
        return False


def wait_until(check, seconds: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(f"{what} not within {seconds} s")


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[ServedDesk]:
    database = os.environ.get("DATABASE_URL", "")
    if database.startswith("postgres"):
        pytest.skip("the process layout is the same on both databases; the crash tests cover PostgreSQL")
    with MailSink() as sink:
        served = ServedDesk.create(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'desk.sqlite3'}", sink.port,
                                   MADOGUCHI_MAIL_ACK="false")
        served.start()
        try:
            yield served
        finally:
            served.stop()


@pytest.mark.own_database
def test_mail_is_received_and_filed_by_a_process_of_its_own(desk: ServedDesk) -> None:
    worker = the_worker(desk)
    assert desk.process is not None and worker != desk.process.pid
    wait_until(lambda: smtp_listener_in(worker, desk.smtp_port), 15, "the SMTP receiver listening in the worker process")
    progress = Sending()
    send_until_accepted(desk.smtp_port, [customer_mail(1)], progress, seconds=60)
    assert progress.accepted == 1
    wait_until(lambda: desk.shell(CASES) == "1", 60, "the mail filed as a case")


@pytest.mark.own_database
def test_the_worker_dies_with_the_desk(desk: ServedDesk) -> None:
    worker = the_worker(desk)
    desk.kill9()
    wait_until(lambda: not alive(worker), 10, "the worker gone after kill -9 of serve")
    assert not smtp_answers(desk.smtp_port)
    desk.start()  # the port is free again: a restarted desk receives mail
    assert smtp_answers(desk.smtp_port)


@pytest.mark.own_database
def test_a_worker_that_dies_alone_is_started_again_and_files_mail(desk: ServedDesk) -> None:
    first = the_worker(desk)
    os.kill(first, signal.SIGKILL)
    wait_until(lambda: not alive(first), 10, "the first worker gone")
    second = the_worker(desk, seconds=30)
    assert second != first
    progress = Sending()
    send_until_accepted(desk.smtp_port, [customer_mail(2)], progress, seconds=60)
    assert progress.accepted == 1
    wait_until(lambda: desk.shell(CASES) == "1", 60, "the mail filed by the new worker")
    assert desk.process is not None and desk.process.poll() is None


@pytest.mark.own_database
def test_serve_stops_its_worker_when_it_stops(desk: ServedDesk) -> None:
    worker = the_worker(desk)
    desk.stop()
    wait_until(lambda: not alive(worker), 20, "the worker stopped with serve")
