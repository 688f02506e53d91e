from django.apps import AppConfig


class StoreOrdersConfig(AppConfig):
    name = "store_node.orders"
    label = "store_orders"
    verbose_name = "Click and collect"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from retail.replication.appliers import APPLIERS
        from store_node.orders.appliers import order_placed_apply, order_status_changed_apply

        # Head office's orders for this store arrive through the pulled feed (docs/events.md).
        APPLIERS["order.placed"] = order_placed_apply
        APPLIERS["order.status_changed"] = order_status_changed_apply
