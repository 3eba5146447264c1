"""The API lists cases by (updated_at, id), newest first, by keyset (GET /api/v1/cases): these
indexes make a page cost the same at any depth and any table size. They belong to the API's
read path (the desk's queues sort by received_at), so the API creates them on the cases table;
the Case model does not declare them and the desk does not depend on them."""

from django.db import migrations

INDEXES = {
    "api_case_updated": "(updated_at DESC, id DESC)",
    "api_case_status_updated": "(status, updated_at DESC, id DESC)",
    "api_case_assignee_updated": "(assignee_id, updated_at DESC, id DESC)",
}


class Migration(migrations.Migration):

    dependencies = [
        ("api", "0001_initial"),
        ("cases", "0004_give_teamless_cases_a_team"),
    ]

    operations = [
        migrations.RunSQL(f"CREATE INDEX IF NOT EXISTS {name} ON cases_case {columns}", f"DROP INDEX IF EXISTS {name}")
        for name, columns in INDEXES.items()
    ]
