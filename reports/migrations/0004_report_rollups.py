"""The report rows gain weekly, monthly and yearly sums (kinds `<kind>:w`, `:m`, `:y`) and
the workload's open cases are kept for today only (no day): rows folded before lack the
sums, so they are emptied and the catch-up position reset, as in 0003. The catch-up task
then refolds the whole timeline (or run `manage.py rebuild_report_rows` at once)."""

from importlib import import_module

from django.db import migrations

empty_report_rows = import_module("reports.migrations.0003_age_rows").empty_report_rows


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0003_age_rows"),
    ]

    operations = [
        migrations.RunPython(empty_report_rows, migrations.RunPython.noop),
    ]
