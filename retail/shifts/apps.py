from django.apps import AppConfig


class ShiftsConfig(AppConfig):
    name = "retail.shifts"
    label = "shifts"
    verbose_name = "Shifts and cash"
    default_auto_field = "django.db.models.BigAutoField"
