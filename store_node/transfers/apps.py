from django.apps import AppConfig


class StoreTransfersConfig(AppConfig):
    name = "store_node.transfers"
    label = "store_transfers"
    verbose_name = "Stock transfers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from retail.replication.appliers import APPLIERS
        from store_node.transfers.appliers import transfer_received_apply, transfer_sent_apply

        # Head office's dispatch reaches both stores; the receiving store's count reaches the
        # sending one, through the pulled feed (docs/events.md).
        APPLIERS["transfer.sent"] = transfer_sent_apply
        APPLIERS["transfer.received"] = transfer_received_apply
