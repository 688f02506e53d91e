"""Bring the head-office groups up to date with the permissions of online orders and reporting."""

from django.db import migrations

from cloud.headoffice.migrations import _roles


class Migration(migrations.Migration):
    dependencies = [
        ("headoffice", "0001_roles"),
        ("omni_api", "0002_orders"),
        ("reporting", "0003_covering_indexes_and_months"),
    ]

    operations = [migrations.RunPython(_roles.setup, migrations.RunPython.noop)]
