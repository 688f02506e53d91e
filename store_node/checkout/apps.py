from django.apps import AppConfig


class CheckoutConfig(AppConfig):
    name = "store_node.checkout"
    label = "checkout"
    verbose_name = "Checkout"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from retail.db.bulk_load import INSERT_TRIGGER_REBUILDS

        # A snapshot loading an empty catalog builds the name search index once, after the rows
        # (retail/db/bulk_load.py), instead of through this trigger row by row (migration 0002).
        INSERT_TRIGGER_REBUILDS["catalog_product"] = {
            "checkout_product_fts_ai": [
                "INSERT INTO checkout_product_fts(checkout_product_fts) VALUES ('rebuild')"
            ]
        }
