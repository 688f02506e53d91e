from django.apps import AppConfig


class FleetConfig(AppConfig):
    name = "store_node.fleet"
    label = "store_fleet"
    verbose_name = "Fleet simulation (load generator)"
