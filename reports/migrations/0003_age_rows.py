"""The report rows gain the age of open cases (kind `age`) and each case's facts the day
its application was made: rows folded before cannot be completed in place, so they are
emptied and the catch-up position reset. The catch-up task then refolds the whole
timeline (or run `manage.py rebuild_report_rows` at once)."""

from django.db import migrations


def empty_report_rows(apps, schema_editor):
    for name in ("ReportRow", "ReportCase", "ReportCursor"):
        apps.get_model("reports", name).objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0002_report_rows"),
    ]

    operations = [
        migrations.RunPython(empty_report_rows, migrations.RunPython.noop),
    ]
