"""Create the head-office groups. Permissions are normally made after migrating; make them now."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations


def setup(apps, schema_editor):
    from cloud.headoffice.roles import roles_setup

    for app_config in global_apps.get_app_configs():
        if app_config.models_module is not None:
            create_permissions(app_config, apps=apps, verbosity=0)
    roles_setup(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("stores", "0001_initial"),
        ("staff", "0001_initial"),
        ("catalog", "0001_initial"),
        ("members", "0001_initial"),
        ("stock", "0001_initial"),
        ("shifts", "0002_initial"),
        ("sales", "0002_initial"),
        ("audit", "0002_initial"),
        ("outbox", "0001_initial"),
        ("reporting", "0001_initial"),
    ]

    operations = [migrations.RunPython(setup, migrations.RunPython.noop)]
