from django.apps import AppConfig


class OmniApiConfig(AppConfig):
    name = "cloud.api"
    label = "omni_api"
    verbose_name = "Omnichannel API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from cloud.api import schema  # noqa: F401  (registers the API key scheme with drf-spectacular)
        from cloud.api.orders import order_status_changed_apply, orders_open_envelopes
        from retail.replication.appliers import APPLIERS
        from retail.replication.snapshot import SNAPSHOT_EVENT_SOURCES

        # A pickup store's status changes flow back here through sync (docs/events.md); a store
        # loading a snapshot gets its open pickup orders' order.placed (docs/sync-protocol.md §3.5).
        APPLIERS["order.status_changed"] = order_status_changed_apply
        SNAPSHOT_EVENT_SOURCES["orders"] = orders_open_envelopes
