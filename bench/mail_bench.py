"""Benchmark of inbound mail (issue 3): parse + thread + store, messages per second.

10,000 mixed Japanese mails (ISO-2022-JP with ①㈱, Shift_JIS, EUC-JP, UTF-8 base64 and
quoted-printable, HTML-only, attachments, quoted replies; 30 % replies by In-Reply-To, 10 %
by a [#n] token of a filed case, each from the sender of the mail it answers, except 2 % of
all mails which refer to someone else's case and open their own with a note; the rest new
mail from 2,000 senders) go through exactly what the desk does. --store smtp (default):
do_ingest_raw stores each mail with its own commit (as the SMTP receiver does before
answering 250); --store group: each --batch of mails is stored in one transaction
(do_ingest_many, as the IMAP poller and import-mail do). Every --batch stored mails the
worker files them in one transaction
(ingest.process_raw_messages: parse, thread, customer, case or interaction, attachments).
All the other apps' receivers run too; what they hand to the worker (search indexing, SLA
clocks of new cases) is drained after each batch by a worker in this process and timed
apart (worker_msgs_per_s). Acknowledgements are off and the shop is open around the clock,
so no outbound mail is part of the figure.

    flock /tmp/bench.lock .venv/bin/python bench/mail_bench.py --db sqlite --runs 1
    flock /tmp/bench.lock .venv/bin/python bench/mail_bench.py --db postgres --runs 1
    flock /tmp/bench.lock .venv/bin/python bench/mail_bench.py --db postgres --runs 1 --store group   # IMAP/import
    flock /tmp/bench.lock .venv/bin/python bench/mail_bench.py --db sqlite --runs 1 --batch 1   # one by one
    flock /tmp/bench.lock .venv/bin/python bench/mail_bench.py --db sqlite --runs 1 --mail-only

--mail-only disconnects the other apps' receivers of the case signals and of customer saves
(search indexing, SLA clocks, after-hours answer), to show the mail channel's own cost.

Each run starts from an empty, migrated database (/tmp/bench-mail-sqlite/ or PostgreSQL
bench_mail; MAIL_BENCH_DIR chooses the data folder) and an empty task queue.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import statistics
import sys
import time
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
DATA_DIR = Path("/tmp/bench-mail")  # + "-<db>", so a SQLite and a PostgreSQL run can go side by side


def configure(db: str) -> str:
    global DATA_DIR
    DATA_DIR = Path(os.environ.get("MAIL_BENCH_DIR", f"{DATA_DIR}-{db}"))
    url = f"sqlite:///{DATA_DIR / 'madoguchi.sqlite3'}" if db == "sqlite" else f"{PG_SERVER}/bench_mail"
    os.environ.update({
        "MADOGUCHI_DATA_DIR": str(DATA_DIR), "DATABASE_URL": url, "MADOGUCHI_LOG_LEVEL": "WARNING",
        "MADOGUCHI_MAIL_ACK": "false", "MADOGUCHI_TASKS_IMMEDIATE": "false",
    })
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
    return url


def reset(db: str) -> None:
    from django.db import connections

    connections.close_all()
    if db == "sqlite":
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        for path in DATA_DIR.iterdir():  # all but the task queue file, which this process holds open
            if not path.name.startswith("tasks.sqlite3"):
                shutil.rmtree(path) if path.is_dir() else path.unlink()
    else:
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS bench_mail WITH (FORCE)")
            conn.execute("CREATE DATABASE bench_mail")
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from huey.contrib.djhuey import HUEY

    HUEY.flush()  # the task queue (a SQLite file in the data folder) starts empty too
    import datetime as dt

    from madoguchi.businesshours.calendar import forget
    from madoguchi.businesshours.models import CalendarOptions, WeeklyHours

    for weekday in range(7):
        WeeklyHours.objects.create(weekday=weekday, opens=dt.time(0), closes=dt.time(23, 59, 59))
    CalendarOptions.objects.update_or_create(pk=1, defaults={"closed_on_public_holidays": False})
    forget()


SUBJECTS = ["商品が届きません", "①番の部品が不足", "㈱テスト商事からの請求書について", "返品・交換の希望", "Ⅳ型の使い方～説明書",
            "ギフト包装の件", "領収書の宛名変更", "配送日時の変更", "髙橋様の注文について", "ポイントが付与されていません"]
BODIES = ["11月20日に注文した商品がまだ届きません。問い合わせ番号で調べても「荷物受付」のままです。",
          "箱を開けたら①番の部品が入っていませんでした。至急送ってください。",
          "請求金額が注文時と違います。確認をお願いします。～よろしくお願いいたします。",
          "サイズが合わなかったので交換をお願いしたいです。Ⅳ型からⅢ型にできますか。"]


def make_mail(number: int, rng: random.Random, previous: list[list]) -> bytes:
    """`previous`: [Message-ID, sender, case id once filed] of the mails so far. A reply comes
    from the sender of the mail it answers (the desk threads only a case's own customer);
    2 % of the mails refer to someone else's case (a second address, a stranger) and open a
    case of their own with a note."""
    from madoguchi.mail.charsets import encode_iso2022jp

    sender = f"customer{rng.randrange(2000)}@example.jp"
    subject, body = rng.choice(SUBJECTS), rng.choice(BODIES) + f"\n（{number}）"
    roll = rng.random()
    extra = []
    if previous and roll < 0.3:
        parent, parent_sender, _case = rng.choice(previous)
        sender = parent_sender if roll >= 0.006 else sender
        extra.append(f"In-Reply-To: {parent}")
        subject = "Re: " + subject
        body += "\n\n2026年11月23日(月) 10:00 窓口 <support@shop.example.jp>:\n> ご連絡ありがとうございます。\n> 確認いたします。"
    elif previous and roll < 0.4:
        filed = [entry for entry in previous[-2000:] if entry[2]]
        if filed:
            _parent, parent_sender, case_id = rng.choice(filed)
            sender = parent_sender if roll >= 0.314 else sender
            subject = f"返信: {subject} [#{case_id}]"
    previous.append([f"<bench-{number}@example.jp>", sender, None])
    headers = [f"From: =?UTF-8?B?{base64.b64encode('山田 太郎'.encode()).decode()}?= <{sender}>",
               "To: support@shop.example.jp", f"Message-ID: <bench-{number}@example.jp>",
               f"Date: {format_datetime(__import__('django.utils.timezone', fromlist=['now']).now())}", "MIME-Version: 1.0",
               *extra]
    kind = rng.randrange(6)
    if kind == 0:
        headers += [f"Subject: =?ISO-2022-JP?B?{base64.b64encode(encode_iso2022jp(subject)).decode()}?=",
                    "Content-Type: text/plain; charset=ISO-2022-JP", "Content-Transfer-Encoding: 7bit"]
        payload = encode_iso2022jp(body)
    elif kind == 1:
        headers += [f"Subject: =?Shift_JIS?B?{base64.b64encode(subject.encode('cp932')).decode()}?=",
                    "Content-Type: text/plain; charset=Shift_JIS", "Content-Transfer-Encoding: 8bit"]
        payload = body.encode("cp932")
    elif kind == 2:
        headers += [f"Subject: =?EUC-JP?B?{base64.b64encode(subject.encode('euc_jis_2004', errors='replace')).decode()}?=",
                    "Content-Type: text/plain; charset=EUC-JP", "Content-Transfer-Encoding: 8bit"]
        payload = body.encode("euc_jis_2004", errors="replace")
    elif kind == 3:
        headers += [f"Subject: =?UTF-8?B?{base64.b64encode(subject.encode()).decode()}?=",
                    "Content-Type: text/plain; charset=UTF-8", "Content-Transfer-Encoding: base64"]
        payload = base64.encodebytes(body.encode())
    elif kind == 4:
        html = f"<html><body><p>{body.replace(chr(10), '<br>')}</p><script>x()</script></body></html>"
        headers += [f"Subject: =?UTF-8?Q?{''.join(f'={b:02X}' for b in subject.encode())}?=",
                    "Content-Type: text/html; charset=UTF-8", "Content-Transfer-Encoding: 8bit"]
        payload = html.encode()
    else:
        photo = base64.encodebytes(rng.randbytes(3000))
        headers += [f"Subject: =?UTF-8?B?{base64.b64encode(subject.encode()).decode()}?=",
                    'Content-Type: multipart/mixed; boundary="b1"']
        payload = (b"--b1\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n" + body.encode() +
                   b"\r\n--b1\r\nContent-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n"
                   b"Content-Disposition: attachment; filename*=UTF-8''%E5%86%99%E7%9C%9F.jpg\r\n\r\n" + photo + b"\r\n--b1--\r\n")
    return "\r\n".join(headers).encode() + b"\r\n\r\n" + payload


def mail_only() -> None:
    from django.db.models.signals import post_save

    from madoguchi.cases import signals

    for signal in (signals.case_created, signals.interaction_added, signals.case_status_changed, signals.commitment_overdue):
        signal.receivers = [r for r in signal.receivers if str(r[0][0]).startswith("mail.")]
        signal.sender_receivers_cache.clear()
    post_save.receivers = [r for r in post_save.receivers if "knowledge" not in str(r[0][0])]
    post_save.sender_receivers_cache.clear()


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        self.count += 1
        return execute(sql, params, many, context)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * share) - 1)]


def run(count: int, seed: int, batch: int, store: str = "smtp") -> dict[str, float]:
    """Mails arrive one by one and each is stored with its own commit (what the SMTP receiver
    does before answering 250); every `batch` stored mails the worker files them in one
    transaction (ingest.process_raw_messages, what process_pending does). Background work the
    other apps queue (search indexing, after-hours answers) goes to the task queue and is
    drained after each batch by a worker in this process: its catch-up rate is measured apart."""
    from django.db import connection
    from huey.contrib.djhuey import HUEY

    from madoguchi.mail.ingest import do_ingest_many, do_ingest_raw, process_raw_messages
    from madoguchi.mail.models import RawMessage, RawState

    rng = random.Random(seed)
    previous: list[list] = []
    untimed = 0.0
    bench_queries = 0
    latencies: list[float] = []  # per mail: start of its storing → its batch committed
    batch_ms: list[float] = []
    busy = cpu = worker_s = worker_cpu = 0.0
    tasks = worker_queries = 0
    counter = QueryCounter()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        number = 0
        while number < count:
            mails = []
            for _ in range(min(batch, count - number)):
                mails.append(make_mail(number, rng, previous))
                number += 1
            pks, arrived = [], []
            c0 = time.process_time()
            t_batch = time.perf_counter()
            if store == "smtp":
                for raw in mails:
                    arrived.append(time.perf_counter())
                    row, _created = do_ingest_raw(raw, "bench", enqueue=False)
                    pks.append(row.pk)
            else:  # IMAP poller / import-mail: a fetched group in one transaction
                arrived = [time.perf_counter()] * len(mails)
                pks = [row.pk for row, _created in do_ingest_many(mails, "bench", enqueue=False)]
            t_filed = time.perf_counter()
            process_raw_messages(pks)
            done = time.perf_counter()
            cpu += time.process_time() - c0
            # which case each mail went to, for later [#n] replies (not timed)
            t_untimed = time.perf_counter()
            queries_before = counter.count
            filed_on = dict(RawMessage.objects.filter(pk__in=pks).values_list("message_id", "case_id"))
            for entry in previous[-len(pks):]:
                entry[2] = filed_on.get(entry[0])
            bench_queries += counter.count - queries_before
            untimed += time.perf_counter() - t_untimed
            busy += done - t_batch
            batch_ms.append((done - t_filed) * 1000)
            latencies += [done - at for at in arrived]
            # The worker catches up with what this batch queued (search indexing, SLA clocks
            # of the new cases, after-hours answers) before the next batch arrives, as the
            # consumer threads do beside the receiver; timed apart (not in msgs_per_s).
            t0, c0 = time.perf_counter(), time.process_time()
            queries_before = counter.count
            while (task := HUEY.dequeue()) is not None:
                HUEY.execute(task)
                tasks += 1
            worker_s += time.perf_counter() - t0
            worker_cpu += time.process_time() - c0
            worker_queries += counter.count - queries_before
    elapsed = time.perf_counter() - started
    queries = counter.count - worker_queries - bench_queries
    states = {state: RawMessage.objects.filter(state=state).count() for state in RawState.values}
    from madoguchi.cases.models import Case, Interaction
    from madoguchi.knowledge.models import SearchDoc
    from madoguchi.metrics.models import CaseSla

    docs, clocks = SearchDoc.objects.count(), CaseSla.objects.count()
    return {
        "messages": count, "batch": batch, "store": store, "seconds": round(elapsed, 2),
        "msgs_per_s_incl_generation": round(count / elapsed, 1),
        "msgs_per_s": round(count / busy, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 2),
        "batch_p50_ms": round(statistics.median(batch_ms), 1), "batch_p95_ms": round(percentile(batch_ms, 0.95), 1),
        # CPU time of this process only: what one free core would give (SQLite runs in-process;
        # PostgreSQL's own CPU is not included).
        "cpu_ms_per_msg": round(cpu / count * 1000, 2),
        "queries_per_msg": round(queries / count, 1),
        "cases": Case.objects.count(), "messages_on_cases": Interaction.objects.count(),
        **{f"state_{k}": v for k, v in states.items()},
        "worker_tasks": tasks, "worker_seconds": round(worker_s, 2), "worker_cpu_seconds": round(worker_cpu, 2),
        "worker_msgs_per_s": round(count / worker_s, 1) if worker_s else None,
        # filing and the worker one after the other on one core: the rate both together sustain
        "filed_and_worker_msgs_per_s": round(count / (busy + worker_s), 1),
        "search_docs": docs, "sla_clocks": clocks,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mail-only", action="store_true")
    parser.add_argument("--batch", type=int, default=100, help="mails filed per transaction (1: one by one)")
    parser.add_argument("--store", choices=["smtp", "group"], default="smtp",
                        help="smtp: one commit per stored mail (the SMTP receiver); group: a fetched group of "
                             "--batch mails stored in one transaction (IMAP poller, import-mail)")
    args = parser.parse_args()
    configure(args.db)
    import django

    django.setup()
    if args.mail_only:
        mail_only()
    results = []
    for number in range(args.runs):
        reset(args.db)
        load_before = open("/proc/loadavg").read().split()[:3]
        result = run(args.count, seed=number, batch=args.batch, store=args.store)
        results.append(result)
        print(json.dumps({"db": args.db, "mail_only": args.mail_only, "run": number + 1, "load_before": " ".join(load_before),
                          "load_after": " ".join(open("/proc/loadavg").read().split()[:3]), **result},
                         ensure_ascii=False), flush=True)
    rates = [r["msgs_per_s"] for r in results]
    print(json.dumps({
        "db": args.db, "mail_only": args.mail_only, "batch": args.batch, "store": args.store, "runs": args.runs,
        "median_msgs_per_s": statistics.median(rates), "min_msgs_per_s": min(rates), "max_msgs_per_s": max(rates),
        "median_worker_msgs_per_s": statistics.median(r["worker_msgs_per_s"] or 0 for r in results),
        "median_filed_and_worker_msgs_per_s": statistics.median(r["filed_and_worker_msgs_per_s"] for r in results),
        "median_p50_ms": statistics.median(r["p50_ms"] for r in results),
        "median_p95_ms": statistics.median(r["p95_ms"] for r in results),
        "median_cpu_ms_per_msg": statistics.median(r["cpu_ms_per_msg"] for r in results),
    }), flush=True)


if __name__ == "__main__":
    main()
