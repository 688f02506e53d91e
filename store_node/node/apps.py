from django.apps import AppConfig


class NodeConfig(AppConfig):
    name = "store_node.node"
    label = "store_node"
    verbose_name = "This store node"
    default_auto_field = "django.db.models.BigAutoField"
