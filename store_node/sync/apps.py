from django.apps import AppConfig


class StoreSyncConfig(AppConfig):
    name = "store_node.sync"
    label = "store_sync"
    verbose_name = "Sync with head office"
    default_auto_field = "django.db.models.BigAutoField"
