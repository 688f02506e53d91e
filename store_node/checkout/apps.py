from django.apps import AppConfig


class CheckoutConfig(AppConfig):
    name = "store_node.checkout"
    label = "checkout"
    verbose_name = "Checkout"
    default_auto_field = "django.db.models.BigAutoField"
