"""Search does not depend on the order the index was written in (issue 16, cause 2 for search).

`madoguchi reindex` writes every case and message first and every customer and order after,
so the newest ids are customers and orders. On PostgreSQL a common word was found by walking
the ids backwards until 200 matches: 割れ, found only in messages, walked past every customer
and order first (309 ms at 1,000,000 cases). The walk now goes by the documents' own time.
Rows visited are counted as in test_similar_cases_index_order (SQLite's FTS5 walks only the
matching documents and passes here without the change)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from madoguchi.knowledge import indexing, search
from madoguchi.knowledge.models import DocKind, SearchDoc
from madoguchi.knowledge.tests.test_similar_cases_index_order import rows_visited

pytestmark = pytest.mark.django_db

MESSAGES, OTHERS = 3_000, 12_000  # above search.RARE_ROWS expected matches: the walking plan
START = dt.datetime(2026, 1, 5, 1, 0, tzinfo=dt.UTC)


def _written_as_reindex_writes() -> None:
    """Messages (each a broken teapot) in time order, then customers and orders, dated across
    the same months, with the highest ids."""
    indexing.save_docs([
        indexing._doc(DocKind.MESSAGE, n, title="急須の破損", body=f"届いた急須の注ぎ口が割れていました（{n}件目）。",
                      at=START + dt.timedelta(minutes=30 * n), case_id=n)
        for n in range(1, MESSAGES + 1)
    ])
    indexing.save_docs([
        indexing._doc(DocKind.CUSTOMER if n % 2 else DocKind.ORDER, n, title=f"山田 花子 {n}", body="ヤマダ ハナコ 03-1234-5678",
                      at=START + dt.timedelta(minutes=7 * n))
        for n in range(1, OTHERS + 1)
    ])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE knowledge_searchdoc")


def test_a_word_found_only_in_messages_does_not_walk_past_the_customers_written_after_them() -> None:
    _written_as_reindex_writes()
    ids = SearchDoc.objects.values_list("kind", "id")
    assert min(i for kind, i in ids if kind != "message") > max(i for kind, i in ids if kind == "message")

    visited, hits = rows_visited(lambda: search.search("割れ", limit=50))

    assert len(hits) == 50  # type: ignore[arg-type]
    assert all(hit.kind == "message" for hit in hits)  # type: ignore[attr-defined]
    # The newest broken teapots, by their own time.
    assert hits[0].ref_id == MESSAGES  # type: ignore[index]
    # The old walk read all 12,000 customers and orders before the first message.
    assert visited < OTHERS // 2, visited
