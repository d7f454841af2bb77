"""Events keep when they were written (`recorded_at`) beside when they happened (`at`)."""

import django.utils.timezone
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0021_missed_deadlines_index"),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name="caseevent",
            name="caseevent_no_update",
        ),
        # Added empty: events written before stay without a recorded moment (nothing is
        # guessed for them, no row of the append-only table is updated); the default (now)
        # applies to new rows only.
        migrations.AddField(
            model_name="caseevent",
            name="recorded_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="recorded at"
            ),
        ),
        migrations.AlterField(
            model_name="caseevent",
            name="recorded_at",
            field=models.DateTimeField(
                blank=True,
                default=django.utils.timezone.now,
                editable=False,
                null=True,
                verbose_name="recorded at",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="caseevent",
            trigger=pgtrigger.compiler.Trigger(
                name="caseevent_no_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition='WHEN (OLD."action" IS DISTINCT FROM (NEW."action") OR OLD."actor_id" IS DISTINCT FROM (NEW."actor_id") OR OLD."application_id" IS DISTINCT FROM (NEW."application_id") OR OLD."at" IS DISTINCT FROM (NEW."at") OR OLD."data" IS DISTINCT FROM (NEW."data") OR OLD."from_status" IS DISTINCT FROM (NEW."from_status") OR OLD."hash" IS DISTINCT FROM (NEW."hash") OR OLD."id" IS DISTINCT FROM (NEW."id") OR OLD."kind" IS DISTINCT FROM (NEW."kind") OR OLD."prev_hash" IS DISTINCT FROM (NEW."prev_hash") OR OLD."reason_digest" IS DISTINCT FROM (NEW."reason_digest") OR OLD."recorded_at" IS DISTINCT FROM (NEW."recorded_at") OR OLD."to_status" IS DISTINCT FROM (NEW."to_status"))',
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update rows from % table', TG_TABLE_NAME;",
                    hash="08544b82f13ab3b3511bbc3751de46c162127a70",
                    operation="UPDATE",
                    pgid="pgtrigger_caseevent_no_update_ef8fe",
                    table="cases_caseevent",
                    when="BEFORE",
                ),
            ),
        ),
    ]
