from django.apps import AppConfig


class OmniApiConfig(AppConfig):
    name = "cloud.api"
    label = "omni_api"
    verbose_name = "Omnichannel API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from cloud.api import schema  # noqa: F401  (registers the API key scheme with drf-spectacular)
        from cloud.api.orders import order_status_changed_apply
        from retail.replication.appliers import APPLIERS

        # A pickup store's status changes flow back here through sync (docs/events.md).
        APPLIERS["order.status_changed"] = order_status_changed_apply
