"""One stranger's mail must not freeze the desk (issue 15, defect 2).

Reading a mail runs in the worker threads of `madoguchi serve`, beside the web server and the
SMTP receiver, under one interpreter lock: a pass over a mail's text that is not linear in its
size froze every page for minutes. And a mail whose processing never finishes must not be
tried again after every restart: after MAIL_MAX_ATTEMPTS tries it waits on the failed list.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import smtplib
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone

from madoguchi.cases.models import Case
from madoguchi.chat.tests.servers import (
    MADOGUCHI,
    PASSWORD,
    Desk,
    _wait_up,
    free_port,
    login_cookie,
    own_database,
)
from madoguchi.mail.cleaning import html_to_text, split_quoted
from madoguchi.mail.ingest import do_ingest_raw
from madoguchi.mail.models import RawMessage, RawState
from madoguchi.mail.parsing import parse_message
from madoguchi.mail.tasks import mail_sweep_job
from madoguchi.mail.tests.helpers import FREEZING_KINDS, freezing_mail, japanese_mail
from madoguchi.testing.databases import migrated
from madoguchi.testing.factories import UserFactory

OPENING = "商品が届きません。至急ご確認ください。"


@contextlib.contextmanager
def within(seconds: float) -> Iterator[None]:
    """Fail (rather than hang for hours) when the block takes longer: the regular expression
    engine and pure Python both look at signals while they run."""
    def too_slow(signum: int, frame: object) -> None:
        raise AssertionError(f"took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("kind", FREEZING_KINDS)
def test_a_megabyte_one_line_body_or_marked_section_html_is_read_well_under_a_second(kind: str) -> None:
    raw = freezing_mail(kind, 7)
    started = time.perf_counter()
    with within(10):
        parsed = parse_message(raw)
    assert time.perf_counter() - started < 0.5
    assert OPENING in parsed.visible_text  # the customer's own words are on the case
    if kind != "marked-sections-html":  # cut to a bounded text, and the case says so
        assert len(parsed.visible_text) < 30_200
        assert "最初の30,000文字だけを表示しています" in parsed.visible_text


@pytest.mark.parametrize("line", [
    "2026/11/20 10:00 " + "さん" * 400_000,  # a dated line with "さん" and no colon at the end
    "ご注文の件です <" + "@" * 1_000_000,  # an address-like "<…@" with no ">"
    "-" * 1_000_000 + "x",  # a rule-like line that does not end in a rule
    "差出人: " + "あ" * 1_000_000,  # an Outlook header-like line
    "<a@b>" + " " * 1_000_000 + "x",  # spaces after an address, no colon
    ("2026/11/20 <taro@example.jp" + " さん" * 150 + "\n") * 2_000,  # many long, almost-quote-header lines
])
def test_quote_and_signature_heuristics_are_linear(line: str) -> None:
    started = time.perf_counter()
    with within(10):
        visible, _folded = split_quoted(f"山田です。\n{line}\nよろしくお願いします。")
    assert time.perf_counter() - started < 0.5
    assert visible.startswith("山田です。")


@pytest.mark.parametrize("markup", [
    "<p>" + OPENING + "</p>" + "<![" * 273_000,  # the report's 821 KB
    "<p>" + OPENING + "</p>" + "<!--" * 200_000,
    "<p>" + OPENING + "</p>" + "</" * 400_000,
    "<p>" + OPENING + "</p>" + "<p>ご確認ください" * 150_000,  # a megabyte of ordinary tags
])
def test_html_to_text_is_linear_and_keeps_the_text(markup: str) -> None:
    started = time.perf_counter()
    with within(10):
        text = html_to_text(markup)
    assert time.perf_counter() - started < 1.0
    assert text.startswith(OPENING)


def test_html_text_keeps_quotes_blocks_and_drops_what_a_browser_hides() -> None:
    markup = (
        "<html><head><title>ご注文</title><style>p{color:red}</style></head><body>"
        "<p>山田様&nbsp;いつも &amp; ありがとうございます &lt;重要&gt;</p><![if !supportLists]>・<![endif]>箱が潰れていました"
        "<blockquote><p>前回の  お問い合わせ</p>二行目<br>三行目</blockquote><script>alert(1)</script>以上です</body></html>"
    )
    assert html_to_text(markup) == (
        "山田様\xa0いつも & ありがとうございます <重要>\n・箱が潰れていました\n\n> 前回の お問い合わせ\n> 二行目\n> 三行目\n以上です"
    )


def test_long_quoted_history_is_cut_apart_from_what_the_customer_wrote() -> None:
    history = "\n".join(f"> {n}回目のご連絡です。配送状況を確認しております。" for n in range(3_000))
    parsed = parse_message(japanese_mail(body=f"蓋が割れていました。交換をお願いします。\n\n2026年11月20日 10:00 窓口 <support@shop.example.jp>:\n{history}"))
    assert parsed.visible_text == "蓋が割れていました。交換をお願いします。"
    assert len(parsed.quoted_text) < 30_200 and parsed.quoted_text.endswith("ダウンロードしてご確認ください。）")
    assert "引用部分が長すぎるため、最初の30,000文字だけを表示しています" in parsed.quoted_text


def test_parsing_stops_at_its_time_budget_and_says_so() -> None:
    parsed = parse_message(freezing_mail("dated-line", 3, size=10_000), budget=-1)
    assert "読み取りに時間がかかりすぎたため" in parsed.visible_text
    assert parsed.out_of_time and parsed.subject  # the headers are read all the same


# --- A running desk: `madoguchi serve` with its worker threads and SMTP receiver ----------------

SERVE_SETUP = f"""
from madoguchi.accounts.models import User
User.objects.create_user(username="agent", password={PASSWORD!r}, display_name="田中 担当")
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Desk, int]]:
    """One `madoguchi serve` as `bin/start` runs it: worker threads in the process (tasks queued
    for real, not run inline), the SMTP receiver on a port of its own, a database of its own."""
    with own_database() as database_url:
        env = {k: v for k, v in os.environ.items() if k not in ("MADOGUCHI_TASKS_IMMEDIATE", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
        smtp_port, port = free_port(), free_port()
        env.update(DATABASE_URL=database_url, MADOGUCHI_DATA_DIR=str(tmp_path / "data"), MADOGUCHI_SMTP_PORT=str(smtp_port),
                   MADOGUCHI_SMTP_OUT_PORT=str(free_port()), MADOGUCHI_MAIL_ACK="false", PYTHONUNBUFFERED="1")
        desk = Desk(urls=[f"http://127.0.0.1:{port}"], shop_url="", env=env)
        migrated(database_url, env["MADOGUCHI_DATA_DIR"])
        desk.shell(SERVE_SETUP)
        with open(tmp_path / "serve.log", "w") as log:
            process = subprocess.Popen([MADOGUCHI, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                _wait_up(desk.urls[0], process)
                yield desk, smtp_port
            finally:
                process.terminate()  # a frozen desk does not stop on SIGTERM in time: then it is killed
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _get(url: str, cookie: str) -> tuple[float, str]:
    started = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Cookie": cookie}), timeout=10) as response:
        body = response.read().decode()
    return time.perf_counter() - started, body


def test_freezing_mails_over_smtp_become_cases_while_the_desk_keeps_answering(served: tuple[Desk, int]) -> None:
    """Before the fix one such mail held the process for minutes: the page requests below
    timed out (10 s) and the mails were not filed."""
    desk, smtp_port = served
    base = desk.urls[0]
    cookie = login_cookie(base, "agent")
    inbox = base + "/?queue=all"
    _get(inbox, cookie)  # warm
    mails = [freezing_mail(kind, number) for number, kind in enumerate(FREEZING_KINDS)]
    sending = threading.Thread(target=_send_all, args=(smtp_port, mails))
    started = time.monotonic()
    sending.start()
    timings: list[float] = []
    filed_after = None
    while time.monotonic() - started < 60 and filed_after is None:
        elapsed, page = _get(inbox, cookie)
        timings.append(elapsed)
        if all(f"至急（{kind} {number}）" in page for number, kind in enumerate(FREEZING_KINDS)):
            filed_after = time.monotonic() - started
        time.sleep(0.05)
    sending.join(timeout=30)
    assert filed_after is not None, "the mails were not filed as cases within 60 s"
    assert filed_after < 30, f"filed after {filed_after:.1f} s"
    timings.sort()
    assert timings[-1] < 3.0 and timings[len(timings) // 2] < 1.0, f"page times (s): {timings}"
    states = desk.shell("from madoguchi.mail.models import RawMessage\nprint(sorted(RawMessage.objects.values_list('state', flat=True)))")
    assert states.strip().splitlines()[-1] == str(["parsed"] * len(mails))


def _send_all(port: int, mails: list[bytes]) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        for raw in mails:
            client.sendmail("stranger@example.net", ["support@shop.example.jp"], raw)


# --- Set aside after MAIL_MAX_ATTEMPTS tries --------------------------------------------------

def _stored(tries: int) -> RawMessage:
    """A stored mail whose `tries` earlier tries never finished (each is counted before it starts:
    the worker was killed while it ran), waiting since ten minutes for the periodic sweep."""
    row, _created = do_ingest_raw(japanese_mail(subject="返品について", body="先週届いた急須の蓋が割れていました。"), "smtp", enqueue=False)
    RawMessage.objects.filter(pk=row.pk).update(attempts=tries, received_at=timezone.now() - dt.timedelta(minutes=10))
    return row


@pytest.mark.django_db
def test_mail_tried_the_maximum_times_is_set_aside_listed_and_retried_by_hand(client, settings) -> None:
    settings.MAIL_MAX_ATTEMPTS = 3
    row = _stored(tries=3)
    mail_sweep_job()  # the periodic job after a restart
    row.refresh_from_db()
    assert row.state == RawState.FAILED and row.case_id is None
    assert "3回取り込もうとしましたが" in row.error and "もう一度取り込む" in row.error
    assert row.subject == "返品について" and row.from_address == "taro@example.jp"
    mail_sweep_job()  # and not tried again by the next sweeps
    row.refresh_from_db()
    assert row.state == RawState.FAILED and row.attempts == 3

    client.force_login(UserFactory())
    page = client.get("/mail/failed/").content.decode()
    assert "3回取り込もうとしましたが" in page and "返品について" in page and f"/mail/raw/{row.pk}/retry/" in page
    response = client.post(f"/mail/raw/{row.pk}/retry/")
    row.refresh_from_db()
    assert row.state == RawState.PARSED and response.status_code == 302 and response["Location"] == f"/cases/{row.case_id}/"
    assert "急須の蓋が割れていました" in Case.objects.get(pk=row.case_id).complaint


@pytest.mark.django_db
def test_mail_below_the_limit_is_still_tried_by_the_sweep(settings) -> None:
    settings.MAIL_MAX_ATTEMPTS = 3
    row = _stored(tries=2)
    mail_sweep_job()
    row.refresh_from_db()
    assert row.state == RawState.PARSED and row.attempts == 3


@pytest.mark.django_db
def test_a_mail_another_worker_is_filing_is_neither_counted_nor_filed_twice(settings) -> None:
    """The mail's own task and the minute sweep reach the same mail: only one counts a try.
    Counted twice, a healthy mail would reach MAIL_MAX_ATTEMPTS and be set aside."""
    settings.MAIL_MAX_ATTEMPTS = 3
    row = _stored(tries=1)
    started = timezone.now()
    RawMessage.objects.filter(pk=row.pk).update(attempts=2, attempt_started_at=started)  # another worker's try, now
    mail_sweep_job()
    row.refresh_from_db()
    assert row.state == RawState.PENDING and row.attempts == 2  # left to the worker that has it
    RawMessage.objects.filter(pk=row.pk).update(attempts=3)  # even its third try is not set aside meanwhile
    mail_sweep_job()
    row.refresh_from_db()
    assert row.state == RawState.PENDING
    # That worker died: once its try is older than the lease the mail is taken again.
    RawMessage.objects.filter(pk=row.pk).update(attempts=1)
    with time_machine.travel(started + dt.timedelta(seconds=settings.MAIL_ATTEMPT_LEASE_SECONDS + 1)):
        mail_sweep_job()
    row.refresh_from_db()
    assert row.state == RawState.PARSED and row.attempts == 2 and row.attempt_started_at is None
