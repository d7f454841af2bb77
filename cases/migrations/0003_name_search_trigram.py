from django.db import migrations


def forwards(apps, schema_editor):
    # A trigram index serves partial and fuzzy name search; PostgreSQL only (SQLite uses LIKE).
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS applicant_search_trgm_idx "
        "ON cases_applicant USING gin (search_key gin_trgm_ops)"
    )
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS application_reference_trgm_idx "
        "ON cases_application USING gin (reference gin_trgm_ops)"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS applicant_search_trgm_idx")
    schema_editor.execute("DROP INDEX IF EXISTS application_reference_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_reference_data")]

    operations = [migrations.RunPython(forwards, backwards)]
