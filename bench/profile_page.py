"""Where one desk page's server time goes: cProfile over repeated requests (issue 16).

Runs against a desk the benchmark generator filled (bench/desk_bench.py --generate-only), through
Django's test Client as a logged-in agent, after a few warm-up requests, and prints the functions
with the most own time and the most cumulative time.

    .venv/bin/python bench/profile_page.py --db postgres --size 100000 "/?queue=mine"
    .venv/bin/python bench/profile_page.py --db sqlite --size 100000 --requests 20 "/cases/1000/"
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", help="the page, e.g. /?queue=mine")
    parser.add_argument("--db", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--user", default="bench-agent1-1")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--match", default="", help="only functions whose file:line(name) matches this regex, e.g. madoguchi/")
    args = parser.parse_args()

    from desk_bench import configure, refresh_other_apps

    configure(args.db, args.size)
    import django

    django.setup()
    from django.test import Client

    from madoguchi.accounts.models import User

    refresh_other_apps()
    client = Client()
    client.force_login(User.objects.get(username=args.user))
    for _ in range(3):
        assert client.get(args.path).status_code == 200
    from madoguchi.cli import tune_garbage_collector

    tune_garbage_collector()  # as `madoguchi serve` runs: what is loaded by now is kept out of the collector's passes
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(args.requests):
        client.get(args.path)
    profiler.disable()
    elapsed = (time.perf_counter() - started) * 1000 / args.requests
    print(f"{args.path}: {elapsed:.1f} ms a request under the profiler ({args.requests} requests)")
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(*([args.match] if args.match else []), args.top)
        print(out.getvalue())


if __name__ == "__main__":
    main()
