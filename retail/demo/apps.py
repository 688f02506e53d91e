from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "retail.demo"
    label = "demo"
    verbose_name = "Demo data"
