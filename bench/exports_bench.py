"""Time and memory of the cases CSV at scale (issue 22 item 10).

    MADOGUCHI_DATA_DIR=/tmp/x .venv/bin/python bench/exports_bench.py --cases 1000000

Fills a fresh database with N cases of one customer (bulk inserts, no signals), then downloads
/exports/cases/csv/ through Django's ASGI handler (what `madoguchi serve` runs), reading the body
as a server would, and reports rows, bytes, seconds and memory
(the process's maximum resident size before and after the download)."""

from __future__ import annotations

import argparse
import os
import resource
import time

import django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--query", default="", help="filters, e.g. ?status=open")
    parser.add_argument("--fill-only", action="store_true", help="fill the database and stop (measure in a fresh process)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # the test client's host name
    from asgiref.sync import async_to_sync
    from django.core.management import call_command
    from django.db import connection
    from django.test import AsyncClient
    from django.utils import timezone

    from madoguchi.accounts.models import Role, User
    from madoguchi.cases.models import Case, Category
    from madoguchi.customers.models import Customer

    call_command("migrate", verbosity=0)
    user, _ = User.objects.get_or_create(username="bench-exports", defaults={"role": Role.ADMIN})
    have = Case.objects.count()
    if have < args.cases:
        customer = Customer.objects.create(name="山田 太郎", kana="ヤマダ タロウ")
        category = Category.objects.first()
        now = timezone.now()
        started = time.perf_counter()
        batch = []
        for n in range(have, args.cases):
            batch.append(Case(subject=f"商品が届きません {n}", channel="email", category=category, customer=customer,
                              received_at=now, complaint="11月20日に注文した商品がまだ届きません。=SUM(A1)"))
            if len(batch) == 10_000:
                Case.objects.bulk_create(batch)
                batch = []
        Case.objects.bulk_create(batch)
        print(f"filled {args.cases - have:,} cases in {time.perf_counter() - started:.1f}s")

    async def fetch() -> tuple[int, int]:
        client = AsyncClient()
        await client.aforce_login(user)
        response = await client.get("/exports/cases/csv/" + args.query)
        lines = size = 0
        async for chunk in response.streaming_content:
            size += len(chunk)
            lines += chunk.count(b"\r\n")
        return lines, size

    if args.fill_only:
        return
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    lines, size = async_to_sync(fetch)()
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{connection.vendor}: {lines - 1:,} rows, {size / 1e6:.1f} MB in {seconds:.1f}s "
          f"({(lines - 1) / seconds:,.0f} rows/s); peak RSS {before / 1e3:.0f} MB before, {after / 1e3:.0f} MB after")


if __name__ == "__main__":
    main()
