"""A real `madoguchi serve` process, fed and broken as the world does it: mail over SMTP from a
sender that retries until the desk says 250 (as a mail server does), an SMTP server that
receives what the desk sends, and `kill -9` in the middle. Shared by the crash test
(jobs/tests) and bench/crash_bench.py; only loopback addresses, every loop bounded in time."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import formatdate, parseaddr
from pathlib import Path
from typing import Any, Protocol

from madoguchi.testing.databases import migrated

MADOGUCHI = str(Path(sys.executable).with_name("madoguchi"))
# The sweeps take work left for 5 s (not 60), work a dead worker held for 15 s (not 120), mail
# left for 10 s (not 300) and a send a dead worker began 20 s ago (not 120): a test waits
# seconds, not minutes; the path is the one the desk always takes (as jobs/tests/test_crash_recovery).
QUICK_SWEEPS = {"MADOGUCHI_WORK_GRACE_SECONDS": "5", "MADOGUCHI_WORK_CLAIM_SECONDS": "15",
                "MADOGUCHI_MAIL_SWEEP_AFTER_SECONDS": "10", "MADOGUCHI_MAIL_SEND_LEASE_SECONDS": "20"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServedDesk:
    """One data folder and database, and the serve process (with its worker threads) on it."""

    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    smtp_port: int = field(default_factory=free_port)
    process: subprocess.Popen[str] | None = None
    starts: int = 0

    @classmethod
    def create(cls, data_dir: Path, database_url: str, sink_port: int, **extra: str) -> ServedDesk:
        env = {k: v for k, v in os.environ.items()
               if k not in ("MADOGUCHI_TASKS_IMMEDIATE", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE")}
        desk = cls(env=env, log_path=data_dir / "serve.log")
        # Every customer here writes from example.jp: lift the per-domain and total limits of
        # automatic mails (a net against backscatter) so each one's answer can be counted.
        env.update(MADOGUCHI_MAIL_ACK_PER_DOMAIN_PER_HOUR="1000000", MADOGUCHI_MAIL_ACK_TOTAL_PER_HOUR="1000000")
        env.update(DATABASE_URL=database_url, MADOGUCHI_DATA_DIR=str(data_dir), MADOGUCHI_SMTP_PORT=str(desk.smtp_port),
                   MADOGUCHI_SMTP_OUT_PORT=str(sink_port), MADOGUCHI_LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1", **extra)
        data_dir.mkdir(parents=True, exist_ok=True)
        migrated(database_url, data_dir)
        return desk

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, seconds: float = 180, *args: str) -> None:
        with open(self.log_path, "a") as log:
            log.write(f"\n=== start {self.starts + 1} ===\n")
            log.flush()
            self.process = subprocess.Popen([MADOGUCHI, "serve", "--port", str(self.port), *args], env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, text=True)
        self.starts += 1
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited with {self.process.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.url + "/login/", timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"serve did not start within {seconds} s; see {self.log_path}")

    def kill9(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def shell(self, code: str) -> str:
        """What `code` printed last, run by `madoguchi shell` on the desk's database."""
        done = subprocess.run([MADOGUCHI, "shell", "-c", code], env=self.env, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(done.stderr)
        lines = done.stdout.strip().splitlines()
        return lines[-1] if lines else ""


# `madoguchi shell` code: the shop open around the clock, so no after-hours answer joins what a
# served desk's test counts, whatever time it runs (the conftest's `shop_open`, for a subprocess).
OPEN_AROUND_THE_CLOCK = """
import datetime as dt
from madoguchi.businesshours.models import CalendarOptions, WeeklyHours
WeeklyHours.objects.all().delete()
for weekday in range(7):
    WeeklyHours.objects.create(weekday=weekday, opens=dt.time(0, 0), closes=dt.time(23, 59, 59))
CalendarOptions.objects.update_or_create(pk=1, defaults={"closed_on_public_holidays": False})
"""
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Browser:
    """A staff member's session on a served desk over plain HTTP: logged in through the login
    form, posting forms with the page's CSRF token as a browser would."""

    def __init__(self, base: str, username: str, password: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.post("/login/", {"username": username, "password": password})

    def get(self, path: str) -> str:
        return str(self.opener.open(self.base + path, timeout=10).read().decode())

    def post(self, path: str, fields: dict[str, str], form_page: str | None = None) -> str:
        """Post `fields` to `path` with the CSRF token of `form_page` (default: `path` itself)."""
        page = self.get(form_page or path)
        found = _CSRF.search(page)
        assert found, "no CSRF token on the page"
        data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": found.group(1)}).encode()
        request = urllib.request.Request(self.base + path, data=data, headers={"Referer": self.base + (form_page or path)})
        return str(self.opener.open(request, timeout=10).read().decode())


def page_status(url: str, cookie: str) -> int:
    """The HTTP status a logged-in page answers with; 0 when nothing answers (a desk down)."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Cookie": cookie}), timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0


class MailSink:
    """The shop's outgoing mail server: keeps every mail the desk sends (aiosmtpd)."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.port = free_port()
        self.received: list[tuple[str, str]] = []  # (to, Message-ID)
        self.messages: list[Message] = []  # each mail as it arrived
        self._lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                from email import message_from_bytes

                message = message_from_bytes(envelope.content)
                with sink._lock:
                    sink.messages.append(message)
                    for to in envelope.rcpt_tos:
                        sink.received.append((to.lower(), str(message.get("Message-ID", ""))))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> MailSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    def per_recipient(self) -> Counter[str]:
        with self._lock:
            return Counter(to for to, _ in self.received)


def customer_mail(number: int) -> tuple[str, bytes]:
    """A new customer's complaint: (sender address, bytes), one sender per mail."""
    sender = f"customer{number}@example.jp"
    message = EmailMessage()
    message["From"] = f"お客様{number} <{sender}>"
    message["To"] = "support@example.jp"
    message["Subject"] = f"注文番号 KM-{100000 + number} の商品が届いていません"
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = f"<crash-{number}@example.jp>"
    message.set_content(
        f"こもれび堂 ご担当者様\n\n注文番号 KM-{100000 + number} で注文した急須がまだ届きません。\n"
        "発送のご連絡から一週間経っています。至急確認してください。\n\nお客様{number}\n", charset="utf-8"
    )
    return sender, message.as_bytes()


@dataclass
class Sending:
    accepted: int = 0
    refused_tries: int = 0
    done: threading.Event = field(default_factory=threading.Event)
    accepted_at: list[float] = field(default_factory=list)  # time.monotonic() of each 250
    # (time.monotonic(), SMTP reply code) of each refused try; 0: no reply (refused connection,
    # reset, timeout)
    refusals: list[tuple[float, int]] = field(default_factory=list)


# Seconds the sender waits for each reply. A mail server waits minutes (RFC 5321 4.5.3.2: 10
# for the answer to the end of DATA); 30 s here once made a slow 451 look like a lost reply.
REPLY_TIMEOUT = 120


def send_until_accepted(port: int, mails: list[tuple[str, bytes]], progress: Sending, seconds: float = 900) -> None:
    """Send each mail until the desk answers 250, as a sending mail server retries a desk
    that is down; a mail is counted once accepted. Bounded in time."""
    deadline = time.monotonic() + seconds
    try:
        for sender, raw in mails:
            while time.monotonic() < deadline:
                try:
                    with smtplib.SMTP("127.0.0.1", port, timeout=REPLY_TIMEOUT) as smtp:
                        smtp.sendmail(sender, ["support@example.jp"], raw)
                    progress.accepted_at.append(time.monotonic())
                    progress.accepted += 1
                    break
                except (OSError, smtplib.SMTPException) as error:
                    code = error.smtp_code if isinstance(error, smtplib.SMTPResponseException) else 0
                    if isinstance(error, smtplib.SMTPRecipientsRefused):
                        code = min(c for c, _ in error.recipients.values())
                    progress.refusals.append((time.monotonic(), code))
                    progress.refused_tries += 1
                    time.sleep(0.2)
            else:
                return
    finally:
        progress.done.set()


TALLY = """
import json
from madoguchi.cases.models import Interaction, InteractionKind
from madoguchi.jobs.models import PendingWork
from madoguchi.knowledge.models import SearchDoc
from madoguchi.mail.models import OutboundMessage, RawMessage
inbound = set(Interaction.objects.filter(kind=InteractionKind.INBOUND).values_list("pk", flat=True))
indexed = set(SearchDoc.objects.filter(kind="message").values_list("ref_id", flat=True))
print(json.dumps({
    "raw": RawMessage.objects.count(),
    "raw_pending": RawMessage.objects.filter(state="pending").count(),
    "raw_failed": RawMessage.objects.filter(state="failed").count(),
    "cases": len(set(Interaction.objects.filter(pk__in=inbound).values_list("case_id", flat=True))),
    "outbound_unsent": OutboundMessage.objects.filter(state__in=["pending", "sending"]).count(),
    "pending_work": PendingWork.objects.count(),
    "inbound_messages": len(inbound),
    "messages_not_indexed": len(inbound - indexed),
}))
"""


class HasShell(Protocol):
    def shell(self, code: str) -> str: ...


def tally(desk: HasShell) -> dict[str, int]:
    return dict(json.loads(desk.shell(TALLY)))


def settled(counts: dict[str, int], expected_mails: int) -> bool:
    return (counts["raw"] >= expected_mails and counts["raw_pending"] == 0 and counts["outbound_unsent"] == 0
            and counts["pending_work"] == 0 and counts["messages_not_indexed"] == 0)


def answers(sink: MailSink, senders: list[str]) -> dict[str, int]:
    """Automatic answers as the customers saw them: each sender should have exactly one."""
    got = sink.per_recipient()
    return {
        "customers": len(senders),
        "answered_once": sum(1 for s in senders if got[parseaddr(s)[1].lower()] == 1),
        "not_answered": sum(1 for s in senders if got[parseaddr(s)[1].lower()] == 0),
        "answered_twice_or_more": sum(1 for s in senders if got[parseaddr(s)[1].lower()] > 1),
    }


def crash_run(desk: ServedDesk, sink: MailSink, count: int, kills: int, settle_seconds: float = 900) -> dict[str, Any]:
    """Send `count` new customers' mails over SMTP; `kill -9` the desk `kills` times while they
    arrive (each time at an even share of the mails accepted so far) and start it again at
    once; then wait until the desk has caught up. Returns what was lost or doubled."""
    mails = [customer_mail(number) for number in range(count)]
    progress = Sending()
    desk.start()
    started = time.monotonic()
    sender = threading.Thread(target=send_until_accepted, args=(desk.smtp_port, mails, progress), daemon=True)
    sender.start()
    killed_at = []
    for share in range(1, kills + 1):
        threshold = count * share // (kills + 1)
        while progress.accepted < threshold and not progress.done.is_set():
            time.sleep(0.05)
        desk.kill9()
        killed_at.append(progress.accepted)
        desk.start()
    sender.join(timeout=settle_seconds)
    sent_in = time.monotonic() - started
    counts: dict[str, int] = {}
    deadline = time.monotonic() + settle_seconds
    while time.monotonic() < deadline:
        counts = tally(desk)
        if settled(counts, count) and answers(sink, [s for s, _ in mails])["not_answered"] == 0:
            break
        time.sleep(3)
    caught_up = time.monotonic() - started
    time.sleep(5)  # anything still on its way (a duplicate would arrive now)
    return {
        "mails": count, "accepted": progress.accepted, "refused_tries": progress.refused_tries,
        "killed_after_accepted": killed_at, "seconds_to_send": round(sent_in, 1),
        "seconds_to_catch_up": round(caught_up, 1), **tally(desk), **answers(sink, [s for s, _ in mails]),
        "sink_mails": len(sink.received),
        "sink_duplicate_message_ids": sum(n - 1 for n in Counter(mid for _, mid in sink.received).values() if n > 1),
    }


def wait_for(check: Any, seconds: float = 90, what: str = "") -> Any:
    """Poll `check` every half second until it returns something true (returned), or fail
    naming `what` was awaited."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {seconds} s" if what else "timed out")
