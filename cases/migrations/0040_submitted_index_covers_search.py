from django.db import migrations

INDEX = "app_unit_submitted_idx"


def forwards(apps, schema_editor):
    """The unit's cases newest first (`app_unit_submitted_idx`), carrying each case's reference
    and search key: a name search of the first page walks this index in the page's order and
    tests each entry's name there (an index-only scan), instead of reading each case's row
    from the table until 25 match (thousands of rows for a common name at a million cases).
    PostgreSQL only (the embedded SQLite database keeps the plain index of the model)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")
    schema_editor.execute(
        f"CREATE INDEX {INDEX} ON cases_application (unit_id, submitted_on DESC, id DESC) "
        "INCLUDE (reference, search_key)"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")
    schema_editor.execute(
        f"CREATE INDEX {INDEX} ON cases_application (unit_id, submitted_on DESC, id DESC)"
    )


class Migration(migrations.Migration):
    dependencies = [("cases", "0039_assignee_deadline_index")]

    operations = [migrations.RunPython(forwards, backwards)]
