from django.apps import AppConfig


class PosUiConfig(AppConfig):
    name = "pos_ui"
    label = "pos_ui"
    verbose_name = "Cashier terminal and handheld screens"
