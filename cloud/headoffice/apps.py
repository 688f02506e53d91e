from django.apps import AppConfig


class HeadOfficeConfig(AppConfig):
    name = "cloud.headoffice"
    label = "headoffice"
    verbose_name = "Head office"
    default_auto_field = "django.db.models.BigAutoField"
