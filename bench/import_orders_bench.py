"""Order import: a realistic Shopify orders_export file of N orders (default 100,000; 1-4 line
items each, repeat customers, fulfilled, cancelled and refunded orders), imported by the real
`madoguchi import-orders` command into a fresh database, then imported again (every order
found unchanged). Reports the wall time and the rate of each run and the rows written.

    .venv/bin/python bench/import_orders_bench.py                       # SQLite, 100,000 orders
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/import_bench .venv/bin/python bench/import_orders_bench.py
    .venv/bin/python bench/import_orders_bench.py --orders 10000        # a quick look

The database named by DATABASE_URL is dropped and created again (PostgreSQL) or made in a
temporary folder (SQLite, the default). The acceptance line is 100,000 orders in under 2 minutes.
Search indexing of the imported orders and customers is left to the worker (it is deferred,
as for every write), so it is not in the import's time; `--index` times it after the import.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MADOGUCHI = str(Path(sys.executable).with_name("madoguchi"))

COUNT = """
from madoguchi.customers.models import Customer, Identity
from madoguchi.shop.models import Order, OrderItem, ImportRun
run = ImportRun.objects.order_by("-pk").first()
print(Order.objects.count(), OrderItem.objects.count(), Customer.objects.count(), Identity.objects.count(),
      run.created, run.updated, run.unchanged, run.skipped)
"""

INDEX = """
import time
from madoguchi.jobs import work
from madoguchi.jobs.models import PendingWork
started = time.monotonic()
done = 0
for row in PendingWork.objects.order_by("pk").values_list("pk", flat=True):
    done += work.complete([row])
print(round(time.monotonic() - started, 1))
"""


def _fresh_database(url: str) -> None:
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if name in ("", "test", "postgres"):
        raise SystemExit(f"refusing to drop database {name!r}: name a database of its own")
    args = ["-h", parsed.hostname or "127.0.0.1", "-p", str(parsed.port or 5432), "-U", parsed.username or "postgres"]
    subprocess.run(["dropdb", "--if-exists", *args, name], check=True)
    subprocess.run(["createdb", *args, name], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--index", action="store_true", help="also time the deferred search indexing afterwards")
    args = parser.parse_args()

    from madoguchi.shop.tests.samples import realistic_orders, write_shopify

    with tempfile.TemporaryDirectory(prefix="import-bench-") as folder:
        data = Path(folder)
        env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "REDIS_URL")}
        env.update(MADOGUCHI_DATA_DIR=str(data / "data"), MADOGUCHI_TASKS_IMMEDIATE="false", PYTHONUNBUFFERED="1")
        url = env.get("DATABASE_URL", "")
        if url.startswith("postgres"):
            _fresh_database(url)
        else:
            env["DATABASE_URL"] = f"sqlite:///{data / 'bench.sqlite3'}"
        engine = "PostgreSQL" if url.startswith("postgres") else "SQLite"

        path = data / "orders_export.csv"
        started = time.monotonic()
        with path.open("w", encoding="utf-8", newline="") as out:
            write_shopify(out, realistic_orders(args.orders))
        size = path.stat().st_size
        print(f"file: {args.orders:,} orders, {size / 1e6:.1f} MB, written in {time.monotonic() - started:.1f} s")
        subprocess.run([MADOGUCHI, "migrate", "-v", "0"], env=env, check=True)

        for label in ("first import", "same file again"):
            started = time.monotonic()
            done = subprocess.run([MADOGUCHI, "import-orders", str(path)], env=env, capture_output=True, text=True)
            seconds = time.monotonic() - started
            if done.returncode != 0:
                raise SystemExit(done.stderr)
            counts = subprocess.run([MADOGUCHI, "shell", "-c", COUNT], env=env, capture_output=True, text=True,
                                    check=True).stdout.split()
            orders, items, customers, identities, created, updated, unchanged, skipped = map(int, counts[-8:])
            print(f"{engine} {label}: {seconds:.1f} s, {args.orders / seconds:,.0f} orders/s "
                  f"(new {created:,}, updated {updated:,}, unchanged {unchanged:,}, skipped {skipped:,}; "
                  f"in the database: {orders:,} orders, {items:,} items, {customers:,} customers, {identities:,} identities)")
        if args.index:
            seconds = subprocess.run([MADOGUCHI, "shell", "-c", INDEX], env=env, capture_output=True, text=True,
                                     check=True).stdout.split()[-1]
            print(f"{engine} deferred search indexing of what the import wrote: {seconds} s")


if __name__ == "__main__":
    main()
