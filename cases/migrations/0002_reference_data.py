from django.contrib.auth.management import create_permissions
from django.db import migrations


def forwards(apps, schema_editor):
    # Permissions are normally created after all migrations ran; the roles need them now.
    for label in ("auth", "accounts", "cases"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    from cases.roles import ensure_roles
    from cases.rule_defaults import ensure_default_rules

    ensure_roles(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))
    ensure_default_rules(apps.get_model("cases", "DeadlineRule"))


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial"),
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
