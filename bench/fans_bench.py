"""Fans and win-back lists at scale: server time of a list page (first and a deep keyset page)
and of the CSV's chunks, and the cost of recomputing a 2,000-customer import batch.

    .venv/bin/python bench/fans_bench.py                     # SQLite in a temporary folder, 200,000 customers
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fansbench .venv/bin/python bench/fans_bench.py
    .venv/bin/python bench/fans_bench.py --customers 20000   # a quick look

Rows are inserted directly (customers, their figures rows, and for the recompute one order and
one case per customer of the batch); every loop is bounded and the script stops by itself.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
if "DATABASE_URL" not in os.environ:
    os.environ.setdefault("MADOGUCHI_DATA_DIR", tempfile.mkdtemp(prefix="fans-bench-"))
os.environ.setdefault("MADOGUCHI_TASKS_IMMEDIATE", "true")


def timed(fn, runs: int) -> tuple[float, float]:
    """p50 and p95 of this process's CPU time (ms): SQLite runs in the process, so the
    database's work is counted, and a machine busy with other work does not inflate it as it
    does wall-clock time. (On PostgreSQL the server's time is not in it: read wall-clock.)"""
    samples = []
    clock = time.process_time if "DATABASE_URL" not in os.environ else time.perf_counter
    for _n in range(runs):
        start = clock()
        fn()
        samples.append((clock() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(int(len(samples) * 0.95) - 1, 0)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from madoguchi.accounts.models import Role, User
    from madoguchi.cases.models import Case, Category, Status
    from madoguchi.customers.models import Customer
    from madoguchi.fans import figures, lists
    from madoguchi.fans.models import CustomerFigures
    from madoguchi.shop.models import Order

    now = timezone.now()
    if not CustomerFigures.objects.exists():
        started = time.perf_counter()
        for first in range(0, args.customers, 10_000):
            made = Customer.objects.bulk_create([Customer(name=f"顧客 {n}") for n in range(first, min(first + 10_000, args.customers))])
            rows = []
            for customer in made:
                n = customer.pk
                fan = n % 3 == 0
                rows.append(CustomerFigures(
                    customer=customer, order_count=2 + n % 5 if fan else 1, spent_yen=1000 * (n % 50),
                    first_order_at=now - dt.timedelta(days=400), last_order_at=now - dt.timedelta(minutes=n % 500_000),
                    case_count=0 if fan else 1, complaint_count=0 if fan else 1,
                    last_resolved_at=None if fan else now - dt.timedelta(minutes=n % 400_000),
                    is_fan=fan, win_back=n % 3 == 1))
            CustomerFigures.objects.bulk_create(rows)
        print(f"inserted {args.customers:,} customers and figures rows in {time.perf_counter() - started:.1f} s")
    admin = User.objects.filter(username="bench-admin").first() or User.objects.create_user("bench-admin", password="x", role=Role.ADMIN)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(admin)
    current = figures.rule()

    deep = ""
    for _page in range(20):  # the cursor of page 21
        deep = lists.fans_page(current, deep).next_cursor
    deep_win = ""
    for _page in range(20):
        deep_win = lists.win_back_page(deep_win).next_cursor
    for label, url in [("notifications (calibration: a page of no data)", "/notifications/"), ("fans, first page", "/fans/"), ("fans, page 21", f"/fans/?cursor={deep}"),
                       ("fans, last 30 days", "/fans/?within_days=30"),
                       ("win-back, first page", "/fans/win-back/"), ("win-back, page 21", f"/fans/win-back/?cursor={deep_win}"),
                       ("win-back, 30+ days", "/fans/win-back/?min_days=30")]:
        assert client.get(url).status_code == 200
        p50, p95 = timed(lambda url=url: client.get(url), args.runs)
        print(f"{label[:24]:24} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")
    p50, p95 = timed(lambda: lists.fans_page(current, deep, size=lists.EXPORT_CHUNK), 10)
    print(f"{'CSV chunk of 1,000':24} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")

    # An import batch: 2,000 customers, each with an order and a case, recomputed at once.
    batch = list(Customer.objects.order_by("-pk").values_list("pk", flat=True)[:2000])
    category = Category.objects.first()
    if not Order.objects.filter(customer_id__in=batch).exists():
        Order.objects.bulk_create([Order(number=f"BENCH-{pk}", customer_id=pk, ordered_at=now, amount_yen=3980) for pk in batch])
        Case.objects.bulk_create([Case(subject="届かない", channel="email", category=category, customer_id=pk, received_at=now,
                                       status=Status.RESOLVED, resolved_at=now) for pk in batch])
    p50, p95 = timed(lambda: figures.recompute(batch, current), 5)
    print(f"{'recompute 2,000':24} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")


if __name__ == "__main__":
    main()
