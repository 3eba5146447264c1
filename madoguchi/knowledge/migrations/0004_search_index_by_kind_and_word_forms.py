"""The engine index learns each document's kind, and every document is tokenised again.

1. Kind: the similar-cases query (and a search limited to one kind) walked newest-first through
   every document and dropped the other kinds afterwards; after `madoguchi reindex`, which
   writes all cases before all messages, that meant reading every message document. Now:
   SQLite: the FTS5 table gets a `kind` column (detail=column, so a query can name the column),
   and FTS5 skips the other kinds inside its own doclists.
   PostgreSQL: a (kind, id) index, which a backward walk for one kind follows.
2. Word forms: the index now holds each word as written, in its dictionary form and in its
   normalised spelling, and numbers joined up (text.py). The documents already indexed are
   handed to the worker again (the jobs app's deferred work, key knowledge.index), 1,000 per
   row, so `serve` or `worker` re-tokenises them in the background after the upgrade; search
   keeps working meanwhile with the tokens written before. `madoguchi reindex` does the same
   at once.
"""

from django.db import migrations

BATCH = 1000
FTS_WITH_KIND = (
    "CREATE VIRTUAL TABLE knowledge_searchfts USING fts5(tokens, kind, content='knowledge_searchdoc', "
    "content_rowid='id', detail=column, tokenize='unicode61 remove_diacritics 0')"
)
FTS_WITHOUT_KIND = (
    "CREATE VIRTUAL TABLE knowledge_searchfts USING fts5(tokens, content='knowledge_searchdoc', "
    "content_rowid='id', detail=none, tokenize='unicode61 remove_diacritics 0')"
)
DROP_SQLITE = [
    "DROP TRIGGER IF EXISTS knowledge_searchdoc_ai",
    "DROP TRIGGER IF EXISTS knowledge_searchdoc_ad",
    "DROP TRIGGER IF EXISTS knowledge_searchdoc_au",
    "DROP TABLE IF EXISTS knowledge_searchfts",
]
TRIGGERS_WITH_KIND = [
    "CREATE TRIGGER knowledge_searchdoc_ai AFTER INSERT ON knowledge_searchdoc BEGIN "
    "INSERT INTO knowledge_searchfts(rowid, tokens, kind) VALUES (new.id, new.tokens, new.kind); END",
    "CREATE TRIGGER knowledge_searchdoc_ad AFTER DELETE ON knowledge_searchdoc BEGIN "
    "INSERT INTO knowledge_searchfts(knowledge_searchfts, rowid, tokens, kind) "
    "VALUES ('delete', old.id, old.tokens, old.kind); END",
    "CREATE TRIGGER knowledge_searchdoc_au AFTER UPDATE ON knowledge_searchdoc BEGIN "
    "INSERT INTO knowledge_searchfts(knowledge_searchfts, rowid, tokens, kind) "
    "VALUES ('delete', old.id, old.tokens, old.kind); "
    "INSERT INTO knowledge_searchfts(rowid, tokens, kind) VALUES (new.id, new.tokens, new.kind); END",
]
TRIGGERS_WITHOUT_KIND = [
    "CREATE TRIGGER knowledge_searchdoc_ai AFTER INSERT ON knowledge_searchdoc BEGIN "
    "INSERT INTO knowledge_searchfts(rowid, tokens) VALUES (new.id, new.tokens); END",
    "CREATE TRIGGER knowledge_searchdoc_ad AFTER DELETE ON knowledge_searchdoc BEGIN "
    "INSERT INTO knowledge_searchfts(knowledge_searchfts, rowid, tokens) VALUES ('delete', old.id, old.tokens); END",
    "CREATE TRIGGER knowledge_searchdoc_au AFTER UPDATE ON knowledge_searchdoc BEGIN "
    "INSERT INTO knowledge_searchfts(knowledge_searchfts, rowid, tokens) VALUES ('delete', old.id, old.tokens); "
    "INSERT INTO knowledge_searchfts(rowid, tokens) VALUES (new.id, new.tokens); END",
]
REBUILD = "INSERT INTO knowledge_searchfts(knowledge_searchfts) VALUES ('rebuild')"

FORWARD = {
    "sqlite": [*DROP_SQLITE, FTS_WITH_KIND, *TRIGGERS_WITH_KIND, REBUILD],
    "postgresql": ["CREATE INDEX IF NOT EXISTS knowledge_searchdoc_kind_id ON knowledge_searchdoc (kind, id)"],
}
BACKWARD = {
    "sqlite": [*DROP_SQLITE, FTS_WITHOUT_KIND, *TRIGGERS_WITHOUT_KIND, REBUILD],
    "postgresql": ["DROP INDEX IF EXISTS knowledge_searchdoc_kind_id"],
}


def engine_index_forward(apps, schema_editor):
    for sql in FORWARD.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


def engine_index_backward(apps, schema_editor):
    for sql in BACKWARD.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


def tokenise_again(apps, schema_editor):
    """Hand every indexed document to the worker (knowledge.indexing.INDEX_WORK)."""
    SearchDoc = apps.get_model("knowledge", "SearchDoc")
    PendingWork = apps.get_model("jobs", "PendingWork")
    db = schema_editor.connection.alias
    refs = SearchDoc.objects.using(db).order_by("id").values_list("kind", "ref_id")
    batch: list[list[object]] = []
    for kind, ref_id in refs.iterator(chunk_size=10_000):
        batch.append([kind, ref_id])
        if len(batch) >= BATCH:
            PendingWork.objects.using(db).create(key="knowledge.index", items=batch)
            batch = []
    if batch:
        PendingWork.objects.using(db).create(key="knowledge.index", items=batch)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0003_default_templates_and_rules"), ("jobs", "0001_initial")]
    operations = [
        migrations.RunPython(engine_index_forward, engine_index_backward),
        migrations.RunPython(tokenise_again, migrations.RunPython.noop),
    ]
