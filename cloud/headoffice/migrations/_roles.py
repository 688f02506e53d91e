"""Shared by the role migrations: permissions are normally made after migrating; make them now."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions


def setup(apps, schema_editor):
    from cloud.headoffice.roles import roles_setup

    for app_config in global_apps.get_app_configs():
        if app_config.models_module is not None:
            create_permissions(app_config, apps=apps, verbosity=0)
    roles_setup(apps=apps)
