from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "store_node.devices"
    label = "devices"
    verbose_name = "Devices (print jobs, drawer kicks)"
    default_auto_field = "django.db.models.BigAutoField"
