from django.db import migrations

# The trigrams of a case's search key, each after the case's unit (`7:kor`), without the
# word-boundary trigrams (those with a space: a search word may be any part of a name, so a
# search never asks for them). The name search's count asks this index for the unit's entries
# of the query's trigrams (`filters.NameSearch.counted`): `application_unit_search_trgm_idx`
# (the unit, then the key's trigrams, with btree_gin) intersects the trigrams' entries with
# the unit's own, every case of the unit (half of all cases for the largest one).
FUNCTION = """
CREATE OR REPLACE FUNCTION haven_unit_trigrams(unit bigint, key text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT ARRAY(
        SELECT unit::text || ':' || t
        FROM unnest({schema}.show_trgm(key)) AS t
        WHERE strpos(t, ' ') = 0
    )
$$
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        # pg_trgm's function by its schema: an index's expression must not depend on the
        # search path of whoever restores or rebuilds it.
        cursor.execute(
            "SELECT quote_ident(n.nspname) FROM pg_extension e "
            "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
        )
        (schema,) = cursor.fetchone()
    schema_editor.execute(FUNCTION.format(schema=schema))
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS application_unit_trigram_idx "
        "ON cases_application USING gin (haven_unit_trigrams(unit_id, search_key))"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS application_unit_trigram_idx")
    schema_editor.execute("DROP FUNCTION IF EXISTS haven_unit_trigrams(bigint, text)")


class Migration(migrations.Migration):
    dependencies = [("cases", "0042_deadline_count_triggers_rewritten")]

    operations = [migrations.RunPython(forwards, backwards)]
