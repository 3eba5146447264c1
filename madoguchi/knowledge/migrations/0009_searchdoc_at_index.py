"""The search index walked newest-first by document time on PostgreSQL (search.postgres_newest).

PostgreSQL only: SQLite's FTS5 walks its own doclists (only matching documents) and never reads
this table in time order, so there the index would cost space and write time for nothing."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS searchdoc_at_id ON knowledge_searchdoc (at DESC NULLS LAST, id DESC)"
        )


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS searchdoc_at_id")


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0008_reply_template_line_quick_replies"),
    ]

    operations = [migrations.RunPython(create, drop)]
