from django.db import migrations


def forwards(apps, schema_editor):
    """The case's search key indexed with its unit (btree_gin): a caseworker's name search
    reads only their unit's entries, instead of ANDing the name's matches with a bitmap of
    every case of the unit (half of all cases for the largest one)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS application_unit_search_trgm_idx "
        "ON cases_application USING gin (unit_id, search_key gin_trgm_ops)"
    )
    schema_editor.execute("DROP INDEX IF EXISTS application_search_trgm_idx")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS application_search_trgm_idx "
        "ON cases_application USING gin (search_key gin_trgm_ops)"
    )
    schema_editor.execute("DROP INDEX IF EXISTS application_unit_search_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [("cases", "0019_unassigned_counts")]

    operations = [migrations.RunPython(forwards, backwards)]
