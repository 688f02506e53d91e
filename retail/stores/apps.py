from django.apps import AppConfig


class StoresConfig(AppConfig):
    name = "retail.stores"
    label = "stores"
    verbose_name = "Stores and terminals"
    default_auto_field = "django.db.models.BigAutoField"
