"""The engine index over SearchDoc.tokens, per database vendor.

SQLite: an external-content FTS5 table kept in step by triggers (detail=none: we AND whole
tokens and check phrases on the text, so positions would only cost space).
PostgreSQL: a generated tsvector column ('simple': the text is already SudachiPy tokens,
no stemming or stop words wanted) with a GIN index.
"""

from django.db import migrations

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE knowledge_searchfts USING fts5(tokens, content='knowledge_searchdoc', "
    "content_rowid='id', detail=none, tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER knowledge_searchdoc_ai AFTER INSERT ON knowledge_searchdoc BEGIN "
    "INSERT INTO knowledge_searchfts(rowid, tokens) VALUES (new.id, new.tokens); END",
    "CREATE TRIGGER knowledge_searchdoc_ad AFTER DELETE ON knowledge_searchdoc BEGIN "
    "INSERT INTO knowledge_searchfts(knowledge_searchfts, rowid, tokens) VALUES ('delete', old.id, old.tokens); END",
    "CREATE TRIGGER knowledge_searchdoc_au AFTER UPDATE ON knowledge_searchdoc BEGIN "
    "INSERT INTO knowledge_searchfts(knowledge_searchfts, rowid, tokens) VALUES ('delete', old.id, old.tokens); "
    "INSERT INTO knowledge_searchfts(rowid, tokens) VALUES (new.id, new.tokens); END",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS knowledge_searchdoc_ai",
    "DROP TRIGGER IF EXISTS knowledge_searchdoc_ad",
    "DROP TRIGGER IF EXISTS knowledge_searchdoc_au",
    "DROP TABLE IF EXISTS knowledge_searchfts",
]
POSTGRES_FORWARD = [
    "ALTER TABLE knowledge_searchdoc ADD COLUMN tsv tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, tokens)) STORED",
    "CREATE INDEX knowledge_searchdoc_tsv ON knowledge_searchdoc USING gin (tsv)",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS knowledge_searchdoc_tsv",
    "ALTER TABLE knowledge_searchdoc DROP COLUMN IF EXISTS tsv",
]


def forward(apps, schema_editor):
    statements = {"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


def backward(apps, schema_editor):
    statements = {"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
