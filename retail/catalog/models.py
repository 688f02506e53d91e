from django.db import models
from django.db.models import Q

from retail.fields import IdField, MoneyField


class TaxClass(models.Model):
    code = models.CharField(max_length=16, primary_key=True, help_text="e.g. STD, RED, ZERO")
    name = models.CharField(max_length=80)

    class Meta:
        verbose_name_plural = "tax classes"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class TaxRate(models.Model):
    """The rate of a tax class from a moment on; the newest rate not in the future applies."""

    tax_class = models.ForeignKey(TaxClass, on_delete=models.CASCADE, related_name="rates")
    rate = models.DecimalField(max_digits=6, decimal_places=4, help_text="0.1900 for 19 %")
    effective_from = models.DateTimeField()

    class Meta:
        ordering = ["tax_class", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["tax_class", "effective_from"], name="tax_rate_once_per_moment")
        ]

    def __str__(self) -> str:
        return f"{self.tax_class_id} {self.rate * 100:.2f}% from {self.effective_from:%Y-%m-%d}"


class Unit(models.TextChoices):
    EACH = "each", "Each"
    KG = "kg", "By weight (kg)"


class Product(models.Model):
    id = IdField()
    sku = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    unit = models.CharField(max_length=8, choices=Unit.choices, default=Unit.EACH)
    tax_class = models.ForeignKey(TaxClass, on_delete=models.PROTECT, related_name="products")
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku"]
        indexes = [models.Index(fields=["name"], name="product_name_idx")]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class Barcode(models.Model):
    """One of a product's barcodes, stored as the normalised GTIN-13/14 or the variable-measure item code."""

    code = models.CharField(max_length=32, primary_key=True)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="barcodes")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Price(models.Model):
    """A selling price from a moment on, chain-wide or (with ``store``) overriding it for one store."""

    id = IdField()
    # No index of its own: the unique (product, store, effective_from) serves look-ups by product.
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="prices", db_index=False)
    store = models.ForeignKey(
        "stores.Store",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="price_overrides",
        db_index=False,
    )
    amount = MoneyField()
    effective_from = models.DateTimeField()

    class Meta:
        ordering = ["product", "-effective_from"]
        # The unique constraint's index is the price look-up (product, store, effective_from); most
        # prices are chain-wide, so the index by store holds only the stores' own prices.
        indexes = [
            models.Index(fields=["store"], name="price_store_override_idx", condition=Q(store__isnull=False))
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "store", "effective_from"], name="price_once_per_moment_and_store"
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="price_not_negative"),
        ]

    def __str__(self) -> str:
        where = self.store.code if self.store_id else "all stores"
        return f"{self.product_id}: {self.amount} ({where}) from {self.effective_from:%Y-%m-%d %H:%M}"
