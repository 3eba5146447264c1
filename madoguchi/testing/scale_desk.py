"""The scale mode as separate processes that a fault test can break one by one (issue 21): a
web process (`serve --no-worker`), a worker with the listeners (`worker --listeners`: the SMTP
receiver, and it files mail too) and a second worker (`worker`: files mail). `kill -9` any of
them and start it again; the others go on. Shared by the fault test
(madoguchi/tests/test_worker_kill_scale.py) and bench/fault_bench.py; only loopback
addresses, every loop bounded in time."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from madoguchi.testing.databases import migrated
from madoguchi.testing.desk_process import (
    MADOGUCHI,
    QUICK_SWEEPS,
    MailSink,
    Sending,
    answers,
    customer_mail,
    free_port,
    send_until_accepted,
    settled,
    tally,
)

WEB, LISTENER, FILER = "web", "worker-listeners", "worker"
__all__ = ["QUICK_SWEEPS", "ScaleDesk", "kill_targets", "lost_or_doubled", "scale_crash_run"]


@dataclass
class ScaleDesk:
    """One database and Redis; the three processes of the scale mode on them."""

    env: dict[str, str]
    data_dir: Path
    port: int = field(default_factory=free_port)
    smtp_port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: list[IO[str]] = field(default_factory=list)
    starts: Counter[str] = field(default_factory=Counter)

    @classmethod
    def create(cls, data_dir: Path, database_url: str, redis_url: str, sink_port: int, **extra: str) -> ScaleDesk:
        env = {k: v for k, v in os.environ.items()
               if k not in ("MADOGUCHI_TASKS_IMMEDIATE", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE")}
        # Every customer writes from example.jp: lift the per-domain and total limits of
        # automatic mails so each one's answer can be counted (as ServedDesk does).
        env.update(MADOGUCHI_MAIL_ACK_PER_DOMAIN_PER_HOUR="1000000", MADOGUCHI_MAIL_ACK_TOTAL_PER_HOUR="1000000")
        env.update(DATABASE_URL=database_url, REDIS_URL=redis_url, MADOGUCHI_DATA_DIR=str(data_dir),
                   MADOGUCHI_TASKS_IMMEDIATE="false", MADOGUCHI_SMTP_PORT="0", MADOGUCHI_SMTP_OUT_PORT=str(sink_port),
                   MADOGUCHI_LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1", **extra)
        data_dir.mkdir(parents=True, exist_ok=True)
        migrated(database_url, data_dir)
        return cls(env=env, data_dir=data_dir)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _command(self, name: str) -> tuple[list[str], dict[str, str]]:
        if name == WEB:
            return [MADOGUCHI, "serve", "--no-worker", "--port", str(self.port)], self.env
        if name == LISTENER:
            return [MADOGUCHI, "worker", "--workers", "2", "--listeners"], {**self.env, "MADOGUCHI_SMTP_PORT": str(self.smtp_port)}
        return [MADOGUCHI, "worker", "--workers", "2"], self.env

    def start(self, name: str) -> None:
        command, env = self._command(name)
        log = open(self.data_dir / f"{name}.log", "a")  # noqa: SIM115 - closed in stop()
        log.write(f"\n=== start {self.starts[name] + 1} ===\n")
        log.flush()
        self.logs.append(log)
        self.processes[name] = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.starts[name] += 1

    def start_all(self, seconds: float = 180) -> None:
        for name in (WEB, LISTENER, FILER):
            self.start(name)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}; see {self.data_dir}/{name}.log")
            if _answers(self.url + "/login/") and _listens(self.smtp_port):
                return
            time.sleep(0.3)
        raise RuntimeError(f"the scale desk did not start within {seconds} s; see {self.data_dir}")

    def kill9(self, name: str) -> None:
        process = self.processes[name]
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in self.logs:
            log.close()

    def shell(self, code: str) -> str:
        """What `code` printed last, run by `madoguchi shell` on the desk's database."""
        done = subprocess.run([MADOGUCHI, "shell", "-c", code], env=self.env, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(done.stderr)
        lines = done.stdout.strip().splitlines()
        return lines[-1] if lines else ""


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


def _listens(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def kill_targets(kills: int, target: str) -> list[str]:
    """Which worker each kill hits: `filer` (the worker that only files), `listener` (the one
    with the SMTP receiver, which files too) or `both` (alternating, the filer first)."""
    if target == "both":
        return [FILER if n % 2 == 0 else LISTENER for n in range(kills)]
    return [FILER if target == "filer" else LISTENER] * kills


def scale_crash_run(desk: ScaleDesk, sink: MailSink, count: int, kills: int, target: str = "both",
                    settle_seconds: float = 900) -> dict[str, Any]:
    """Send `count` new customers' mails to the listener worker's SMTP receiver; `kill -9` a
    worker `kills` times while they arrive and are filed (each time at an even share of the mails
    accepted so far) and start it again at once; then wait until the desk has caught up.
    Returns what was lost or doubled, counted from the outside (database and outgoing mail)."""
    mails = [customer_mail(number) for number in range(count)]
    progress = Sending()
    desk.start_all()
    started = time.monotonic()
    sender = threading.Thread(target=send_until_accepted, args=(desk.smtp_port, mails, progress, settle_seconds), daemon=True)
    sender.start()
    killed: list[tuple[str, int]] = []
    for share, name in enumerate(kill_targets(kills, target), start=1):
        threshold = count * share // (kills + 1)
        while progress.accepted < threshold and not progress.done.is_set():
            time.sleep(0.05)
        desk.kill9(name)
        killed.append((name, progress.accepted))
        desk.start(name)
    sender.join(timeout=settle_seconds)
    sent_in = time.monotonic() - started
    counts: dict[str, int] = {}
    deadline = time.monotonic() + settle_seconds
    senders = [s for s, _ in mails]
    while time.monotonic() < deadline:
        counts = tally(desk)
        if settled(counts, count) and answers(sink, senders)["not_answered"] == 0:
            break
        time.sleep(3)
    caught_up = time.monotonic() - started
    time.sleep(5)  # anything still on its way (a duplicate would arrive now)
    return {
        "mails": count, "accepted": progress.accepted, "refused_tries": progress.refused_tries,
        "killed_after_accepted": killed, "seconds_to_send": round(sent_in, 1),
        "seconds_to_catch_up": round(caught_up, 1), **tally(desk), **answers(sink, senders),
        "sink_mails": len(sink.received),
        "sink_duplicate_message_ids": sum(n - 1 for n in Counter(mid for _, mid in sink.received).values() if n > 1),
    }


def lost_or_doubled(result: dict[str, Any]) -> int:
    """Everything that would break the promise: a mail not accepted or not a case, a customer
    not answered or answered twice, an outgoing mail sent twice, a message not searchable."""
    return int(
        (result["mails"] - result["accepted"]) + (result["mails"] - result["cases"]) + result["raw_failed"]
        + result["not_answered"] + result["answered_twice_or_more"] + result["sink_duplicate_message_ids"]
        + result["messages_not_indexed"] + (result["mails"] - result["inbound_messages"])
    )
