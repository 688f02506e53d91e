from django.db import models

from retail.fields import IdField, QuantityField


class MovementKind(models.TextChoices):
    SALE = "sale", "Sale"
    RETURN = "return", "Return"
    RECEIPT = "receipt", "Goods received"
    TRANSFER_OUT = "transfer_out", "Transfer out"
    TRANSFER_IN = "transfer_in", "Transfer in"
    COUNT = "count", "Count adjustment"
    WRITE_OFF = "write_off", "Write-off"


class StockMovement(models.Model):
    """A signed change of stock of one product at one store. Movements are facts: never edited."""

    id = IdField()
    # No index of its own: ``movement_history_idx`` (store, product, created_at) serves look-ups by store.
    store = models.ForeignKey(
        "stores.Store", on_delete=models.PROTECT, related_name="stock_movements", db_index=False
    )
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="stock_movements")
    kind = models.CharField(max_length=16, choices=MovementKind.choices)
    quantity = QuantityField(help_text="Signed: negative leaves the store.")
    reference = models.CharField(max_length=64, blank=True, help_text="Sale, transfer or count it came from.")
    note = models.CharField(max_length=200, blank=True)
    origin = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["store", "product", "created_at"]
        indexes = [models.Index(fields=["store", "product", "created_at"], name="movement_history_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity:+} of {self.product_id} at {self.store_id}"


class StockLevel(models.Model):
    """On hand per (store, product): a projection always equal to the sum of its movements."""

    # No index of its own: ``one_level_per_store_product`` (store, product) serves look-ups by store.
    store = models.ForeignKey(
        "stores.Store", on_delete=models.CASCADE, related_name="stock_levels", db_index=False
    )
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="stock_levels")
    on_hand = QuantityField(max_digits=14, default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["store", "product"]
        constraints = [
            models.UniqueConstraint(fields=["store", "product"], name="one_level_per_store_product")
        ]

    def __str__(self) -> str:
        return f"{self.product_id} at {self.store_id}: {self.on_hand}"
