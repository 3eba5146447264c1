"""Before/after figures for two causes of issue 16 (in-process, SQLite; not over HTTP).

1. Tokenizer per request: what the first tokenisation in a new thread costs, as each request
   thread of `madoguchi serve` paid it with a tokenizer cached per thread (Sudachi's dictionary
   loaded again), against borrowing one from the process's pool (knowledge.text.pool).
2. Similar-case candidates after `madoguchi reindex` (all cases written before all messages):
   the candidate query of before (FTS5 match on the tokens, kind checked after the join)
   against the query of now (kind filtered inside FTS5), on the same index.

    DATABASE_URL=sqlite:////tmp/search-fixes/bench.sqlite3 .venv/bin/python bench/search_fixes_bench.py --cases 20000
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
os.environ.setdefault("MADOGUCHI_DATA_DIR", "/tmp/search-fixes")

COMPLAINTS = [
    "先週注文した電気ケトルの電源が入りません。コンセントを替えても同じです。",
    "届いた南部鉄器の急須の注ぎ口が割れていました。交換をお願いします。",
    "ワイヤレスイヤホンの片方から音が出ません。返品できますか。",
    "同じ金額が二回引き落とされていました。返金をお願いします。",
    "配送業者の対応が失礼でした。再配達の依頼も受けてもらえませんでした。",
]


def _in_new_thread(fn) -> float:  # type: ignore[no-untyped-def]
    took: list[float] = []

    def run() -> None:
        started = time.perf_counter()
        fn()
        took.append((time.perf_counter() - started) * 1000)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return took[0]


def tokenizers(rounds: int) -> None:
    from sudachipy import dictionary

    from madoguchi.knowledge.text import index_tokens

    index_tokens("準備")  # the pool's first tokenizer, as after the first request

    def per_thread() -> None:  # what each new request thread did before
        tok = dictionary.Dictionary(dict="core").tokenizer()
        tok.tokenize(COMPLAINTS[0])

    before = [_in_new_thread(per_thread) for _ in range(rounds)]
    after = [_in_new_thread(lambda: index_tokens(COMPLAINTS[0])) for _ in range(rounds)]
    for name, samples in (("before (tokenizer per thread)", before), ("after (shared pool)", after)):
        q = statistics.quantiles(samples, n=20)
        print(f"1. first tokenisation in a new thread, {name}: p50 {statistics.median(samples):.1f} ms, p95 {q[18]:.1f} ms")


def build(cases: int) -> None:
    """N cases then 5·N messages, ids in that order (what reindex writes), tokens from the real
    tokenizer (sentences tokenised once, as bench/search_bench.py does)."""

    from django.core.management import call_command
    from django.db import connection

    from bench.search_bench import rows

    call_command("migrate", interactive=False, verbosity=0)
    connection.ensure_connection()
    raw = connection.connection
    raw.execute("PRAGMA journal_mode=OFF")
    raw.execute("PRAGMA synchronous=OFF")
    raw.execute("DELETE FROM knowledge_searchdoc")
    generated = list(rows(cases))
    ordered = [r for r in generated if r[1] == "case"] + [r for r in generated if r[1] == "message"]
    sql = "INSERT INTO knowledge_searchdoc (id, kind, ref_id, case_id, title, body, tokens, at) VALUES (?,?,?,?,?,?,?,?)"
    raw.executemany(sql, [(i + 1, *r[1:7], r[7].isoformat(" ")) for i, r in enumerate(ordered)])
    raw.execute("ANALYZE")
    raw.commit()
    print(f"index: {cases:,} cases then {len(ordered) - cases:,} messages", flush=True)


OLD_SQL = ("SELECT d.ref_id, d.tokens FROM knowledge_searchfts JOIN knowledge_searchdoc d ON d.id = knowledge_searchfts.rowid "
           "WHERE knowledge_searchfts MATCH %s AND d.kind = 'case' ORDER BY knowledge_searchfts.rowid DESC LIMIT %s")


def similar(runs: int) -> None:
    from collections import Counter

    from django.db import connection

    from madoguchi.knowledge import suggestions

    def old(terms: list[str]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(OLD_SQL, [" OR ".join(f'"{t}"' for t in terms), 300])
            cursor.fetchall()

    def new(terms: list[str]) -> None:
        suggestions._case_candidates(terms, None)

    for name, query in (("before (kind checked after the join)", old), ("after (kind inside FTS5)", new)):
        samples = []
        for _ in range(runs):
            for complaint in COMPLAINTS:
                terms = suggestions._rare_terms(Counter(suggestions.tokens(complaint, every=False)))
                started = time.perf_counter()
                query(terms)
                samples.append((time.perf_counter() - started) * 1000)
        q = statistics.quantiles(samples, n=20)
        print(f"2. similar-case candidates after reindex, {name}: p50 {statistics.median(samples):.1f} ms, p95 {q[18]:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--skip-build", action="store_true")
    args = parser.parse_args()
    import django

    django.setup()
    tokenizers(args.runs)
    if not args.skip_build:
        build(args.cases)
    similar(args.runs)


if __name__ == "__main__":
    main()
