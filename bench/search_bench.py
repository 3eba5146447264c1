"""Japanese search benchmark (issue 5): p50 / p95 of madoguchi.knowledge.search.search over
N cases and 5·N messages, on SQLite (FTS5) and PostgreSQL (tsvector + GIN); index size;
time to index one new message.

    # generate (once; minutes): the real migrations, then a bulk load of the index rows
    DATABASE_URL=sqlite:////tmp/search-bench/bench.sqlite3 .venv/bin/python bench/search_bench.py generate --cases 1000000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_search .venv/bin/python bench/search_bench.py generate --cases 1000000
    # measure
    DATABASE_URL=... .venv/bin/python bench/search_bench.py measure --runs 5

Search reads only the index table (knowledge_searchdoc: title, NFKC text, tokens) and the
engine index over it, so the generator fills only that table: one row per case (subject +
complaint) and one per message. Text is built from a pool of realistic sentences, each
tokenised once by the real SudachiPy tokeniser, so the tokens are exactly what the live
indexer would write; order numbers, names and places make the vocabulary realistic.
Loading is raw bulk I/O: SQLite executemany with the FTS triggers off and one FTS5
'rebuild' at the end; PostgreSQL COPY with the GIN index built after the load.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
os.environ.setdefault("MADOGUCHI_DATA_DIR", "/tmp/search-bench")

PRODUCTS = [
    "南部鉄器の急須", "有田焼のマグカップ", "今治タオル", "電気ケトル", "ワイヤレスイヤホン", "ノートパソコン",
    "加湿器", "炊飯器", "掃除機", "ランニングシューズ", "レインコート", "ベビーカー", "本棚", "ソファ",
    "腕時計", "スマートフォンケース", "コーヒーメーカー", "電子レンジ", "羽毛布団", "リュックサック",
    "日本酒の詰め合わせ", "緑茶のギフトセット", "革の財布", "ガラスの花瓶", "子ども用自転車", "電動歯ブラシ",
    "ヘアドライヤー", "ゲーム機", "プリンター", "延長コード",
]
PLACES = ["北海道", "青森県", "宮城県", "東京都", "神奈川県", "埼玉県", "千葉県", "静岡県", "愛知県", "京都府",
          "大阪府", "兵庫県", "広島県", "香川県", "福岡県", "熊本県", "沖縄県", "新潟県", "長野県", "岐阜県"]
CARRIERS = ["ヤマト運輸", "佐川急便", "日本郵便", "西濃運輸"]
SUBJECTS = [
    "{p}がまだ届きません", "届いた{p}が破損していました", "{p}のサイズが説明と違います", "二重に請求されています",
    "電話の対応が失礼でした", "{p}の色が写真と違う", "{p}の返品方法を教えてください", "クーポンが使えません",
    "配達日時を変更したい", "{p}の電源が入りません", "説明書が入っていませんでした", "領収書を発行してほしい",
    "{p}の交換をお願いしたい", "配送業者の対応について", "返金がまだ確認できません",
]
SENTENCES = [
    "{d}に注文した{p}がまだ届きません。", "{c}の追跡では{place}の営業所に止まったままです。",
    "箱を開けたら{p}に大きな傷がありました。", "{p}が破損した状態で届きました。交換してもらえますか。",
    "サイトの説明と違い、{p}のサイズが小さすぎます。", "返品の手続きを教えてください。",
    "同じ金額が二回引き落とされていました。返金をお願いします。", "配送の遅延について説明してください。",
    "このたびはご不便をおかけし、誠に申し訳ございません。", "配送状況を{c}に確認いたします。",
    "交換品を本日発送いたしました。", "返金の手続きが完了しました。", "お手数ですが、注文番号を教えていただけますか。",
    "{place}への配送は通常より二日ほど遅れております。", "{p}の初期不良と思われます。", "再配達の依頼をしました。",
    "不在票が入っていませんでした。", "梱包が雑で中身が潰れていました。", "色が写真とまったく違います。",
    "担当の方の言い方がとても冷たく感じました。", "クーポンコードを入力してもエラーになります。",
    "領収書の宛名を変更したいです。", "{p}の電源が入らず、充電もできません。", "{d}の午前中に届けてほしいです。",
    "キャンセルした注文の代金が請求されています。", "ご指摘の点は社内で共有し、再発防止に努めます。",
    "{p}を返送していただければ、到着後に返金いたします。", "{c}の配達員が荷物を置き配にしていきました。",
]
QUERIES_ONE = ["配送", "返品", "破損", "急須", "北海道", "領収書", "置き配", "初期不良", "クーポン", "ｸｰﾎﾟﾝ"]
# Words the generated text never contains: the plan must not read every row to learn that.
QUERIES_RARE = ["ランプ", "炊飯器 ランプ", "存在しない言葉", "ゴルフバッグ"]
QUERIES_TWO = ["配送 遅延", "返品 急須", "破損 交換", "返金 二重", "北海道 配送", "電源 充電", "色 写真",
               "クーポン エラー", "再配達 不在票", "イヤホン 傷"]


def _setup(migrate: bool) -> None:
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)


class Pool:
    """Sentences tokenised once; a message is a few of them, tokens concatenated."""

    def __init__(self, rng: random.Random, size: int = 6000) -> None:
        from madoguchi.knowledge.text import index_tokens, normalise

        def fill(template: str) -> str:
            return template.format(p=rng.choice(PRODUCTS), c=rng.choice(CARRIERS), place=rng.choice(PLACES),
                                   d=f"{rng.randint(1, 12)}月{rng.randint(1, 28)}日")

        self.sentences = []
        for _ in range(size):
            text = normalise(fill(rng.choice(SENTENCES)))
            self.sentences.append((text, index_tokens(text)))
        self.subjects = []
        for _ in range(2000):
            text = normalise(fill(rng.choice(SUBJECTS)))
            self.subjects.append((text, index_tokens(text)))
        self.rng = rng

    def message(self, n: int) -> tuple[str, str]:
        picks = [self.rng.choice(self.sentences) for _ in range(self.rng.randint(2, 4))]
        return "".join(p[0] for p in picks), " ".join(p[1] for p in picks)


def rows(cases: int, seed: int = 5):
    """(id, kind, ref_id, case_id, title, body, tokens, at) for N cases and 5·N messages."""
    rng = random.Random(seed)
    pool = Pool(rng)
    start = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)
    doc_id = 0
    message_id = 0
    for case_id in range(1, cases + 1):
        at = start + dt.timedelta(seconds=case_id * 150)
        subject, subject_tokens = rng.choice(pool.subjects)
        body, tokens = pool.message(case_id)
        order = f"ORD-{at.year}-{case_id:07d}"
        doc_id += 1
        yield (doc_id, "case", case_id, case_id, subject, f"{body}\n{order}", f"{subject_tokens} {tokens} ord {at.year} {case_id:07d}", at)
        for k in range(5):
            message_id += 1
            doc_id += 1
            body, tokens = pool.message(message_id)
            yield (doc_id, "message", message_id, case_id, subject, body, f"{subject_tokens} {tokens}", at + dt.timedelta(hours=k))


def generate_sqlite(cases: int, batch: int = 50_000) -> None:
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection
    raw.execute("PRAGMA journal_mode=OFF")
    raw.execute("PRAGMA synchronous=OFF")
    for name in ("ai", "ad", "au"):
        raw.execute(f"DROP TRIGGER IF EXISTS knowledge_searchdoc_{name}")
    raw.execute("DELETE FROM knowledge_searchdoc")
    sql = "INSERT INTO knowledge_searchdoc (id, kind, ref_id, case_id, title, body, tokens, at) VALUES (?,?,?,?,?,?,?,?)"
    buffer = []
    t0 = time.time()
    for row in rows(cases):
        buffer.append(row[:7] + (row[7].isoformat(" "),))
        if len(buffer) >= batch:
            raw.executemany(sql, buffer)
            raw.commit()
            buffer = []
            print(f"  {row[0]:,} rows {time.time() - t0:.0f}s", flush=True)
    raw.executemany(sql, buffer)
    raw.commit()
    print("FTS5 rebuild …", flush=True)
    raw.execute("INSERT INTO knowledge_searchfts(knowledge_searchfts) VALUES ('rebuild')")
    raw.execute("INSERT INTO knowledge_searchfts(knowledge_searchfts) VALUES ('optimize')")
    raw.commit()
    # Put the triggers back exactly as the migration made them.
    from importlib import import_module

    migration = import_module("madoguchi.knowledge.migrations.0004_search_index_by_kind_and_word_forms")
    for statement in migration.TRIGGERS_WITH_KIND:
        raw.execute(statement)
    raw.execute("ANALYZE")
    raw.commit()
    print(f"done in {time.time() - t0:.0f}s", flush=True)


def _copy_line(row: tuple) -> str:
    def esc(value: object) -> str:
        if value is None:
            return "\\N"
        text = value.isoformat() if isinstance(value, dt.datetime) else str(value)
        return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")

    return "\t".join(esc(v) for v in row) + "\n"


def generate_postgres(cases: int, batch: int = 50_000) -> None:
    from django.db import connection

    t0 = time.time()
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS knowledge_searchdoc_tsv")
        cursor.execute("TRUNCATE knowledge_searchdoc")
        cursor.execute("SET synchronous_commit = off")
        buffer = io.StringIO()
        count = 0
        copy_sql = "COPY knowledge_searchdoc (id, kind, ref_id, case_id, title, body, tokens, at) FROM STDIN"
        for row in rows(cases):
            buffer.write(_copy_line(row))
            count += 1
            if count % batch == 0:
                with cursor.copy(copy_sql) as copy:
                    copy.write(buffer.getvalue())
                connection.commit() if not connection.get_autocommit() else None
                buffer = io.StringIO()
                print(f"  {count:,} rows {time.time() - t0:.0f}s", flush=True)
        with cursor.copy(copy_sql) as copy:
            copy.write(buffer.getvalue())
        cursor.execute("SELECT setval(pg_get_serial_sequence('knowledge_searchdoc', 'id'), %s)", [count])
        print("GIN index …", flush=True)
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute("CREATE INDEX knowledge_searchdoc_tsv ON knowledge_searchdoc USING gin (tsv)")
        cursor.execute("VACUUM ANALYZE knowledge_searchdoc")
    print(f"done in {time.time() - t0:.0f}s", flush=True)


def index_size() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name, SUM(pgsize) FROM dbstat WHERE name LIKE 'knowledge_search%' GROUP BY name")
            return {name: int(size) for name, size in cursor.fetchall()}
        cursor.execute(
            "SELECT 'table knowledge_searchdoc (with TOAST)', pg_table_size('knowledge_searchdoc') UNION ALL "
            "SELECT 'GIN knowledge_searchdoc_tsv', pg_relation_size('knowledge_searchdoc_tsv') UNION ALL "
            "SELECT 'other indexes', pg_indexes_size('knowledge_searchdoc') - pg_relation_size('knowledge_searchdoc_tsv')"
        )
        return {name: int(size) for name, size in cursor.fetchall()}


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def measure(runs: int) -> None:
    from django.db import connection, transaction

    from madoguchi.knowledge import indexing, search
    from madoguchi.knowledge.models import SearchDoc

    print(f"vendor={connection.vendor} docs={SearchDoc.objects.count():,}")
    for label, queries in (("one word", QUERIES_ONE), ("two words", QUERIES_TWO), ("absent words", QUERIES_RARE)):
        for q in queries:  # warm the cache once, like a running server
            search.search(q)
        samples = []
        for _ in range(runs):
            for q in queries:
                t = time.perf_counter()
                search.search(q)
                samples.append((time.perf_counter() - t) * 1000)
        p50, p95 = _percentiles(samples)
        print(f"{label}: n={len(samples)} p50={p50:.1f} ms p95={p95:.1f} ms max={max(samples):.1f} ms")
    exact = [f"ORD-2022-{random.Random(i).randint(220_000, 400_000):07d}" for i in range(20)]
    samples = []
    for q in exact:
        t = time.perf_counter()
        search.search(q)
        samples.append((time.perf_counter() - t) * 1000)
    print("order number: p50={:.1f} ms p95={:.1f} ms".format(*_percentiles(samples)))
    samples = []
    for i in range(50):
        with transaction.atomic():
            t = time.perf_counter()
            doc = indexing._doc("message", 10**12 + i, title="商品がまだ届きません",
                                body="先週注文した南部鉄器の急須がまだ届きません。配送状況を教えてください。",
                                at=dt.datetime.now(dt.UTC), case_id=1)
            indexing.save_doc(doc)
            samples.append((time.perf_counter() - t) * 1000)
            transaction.set_rollback(True)
    print("index one new message (tokenise + write, in its transaction): p50={:.2f} ms p95={:.2f} ms".format(*_percentiles(samples)))
    for name, size in index_size().items():
        print(f"size {name}: {size / 2**20:,.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate")
    gen.add_argument("--cases", type=int, default=1_000_000)
    meas = sub.add_parser("measure")
    meas.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    _setup(migrate=args.command == "generate")
    from django.db import connection

    if args.command == "generate":
        (generate_sqlite if connection.vendor == "sqlite" else generate_postgres)(args.cases)
    else:
        measure(args.runs)


if __name__ == "__main__":
    main()
