from django.apps import AppConfig


class OmniApiConfig(AppConfig):
    name = "cloud.api"
    label = "omni_api"
    verbose_name = "Omnichannel API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from cloud.api import schema  # noqa: F401  (registers the API key scheme with drf-spectacular)
