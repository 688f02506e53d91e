"""Bring the head-office groups up to date with the permissions of transfers."""

from django.db import migrations

from cloud.headoffice.migrations import _roles


class Migration(migrations.Migration):
    dependencies = [
        ("headoffice", "0002_roles_for_orders_and_reporting"),
        ("transfers", "0001_initial"),
    ]

    operations = [migrations.RunPython(_roles.setup, migrations.RunPython.noop)]
