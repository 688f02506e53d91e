from django.apps import AppConfig


class StoreOrdersConfig(AppConfig):
    name = "store_node.orders"
    label = "store_orders"
    verbose_name = "Click and collect"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from retail.replication.appliers import APPLIERS
        from retail.replication.snapshot import SNAPSHOT_TABLES
        from store_node.orders.appliers import (
            OrderSnapshotTable,
            order_placed_apply,
            order_status_changed_apply,
        )

        # Head office's orders for this store arrive through the pulled feed (docs/events.md), and
        # the open ones with a snapshot (docs/sync-protocol.md 3.5).
        APPLIERS["order.placed"] = order_placed_apply
        APPLIERS["order.status_changed"] = order_status_changed_apply
        SNAPSHOT_TABLES["order"] = OrderSnapshotTable
