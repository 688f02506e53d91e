from django.apps import AppConfig


class CloudSyncConfig(AppConfig):
    name = "cloud.sync"
    label = "cloud_sync"
    verbose_name = "Store sync"
    default_auto_field = "django.db.models.BigAutoField"
