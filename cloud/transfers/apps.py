from django.apps import AppConfig


class TransfersConfig(AppConfig):
    name = "cloud.transfers"
    label = "transfers"
    verbose_name = "Stock transfers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from cloud.transfers.appliers import transfer_received_apply
        from cloud.transfers.selectors import transfers_open_envelopes
        from retail.replication.appliers import APPLIERS
        from retail.replication.snapshot import SNAPSHOT_EVENT_SOURCES

        # The receiving store's count comes back through sync (docs/events.md); a store loading a
        # snapshot gets the transfers still on their way to or from it (docs/sync-protocol.md §3.5).
        APPLIERS["transfer.received"] = transfer_received_apply
        SNAPSHOT_EVENT_SOURCES["transfers"] = transfers_open_envelopes
