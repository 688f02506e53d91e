"""This store's copy of the online orders it is to pick and hand over (click and collect).

The cloud's order (``cloud.api.models.Order``) is the original; this copy arrives as
``order.placed``, keeps the same id and number, and is moved on here by ``store_node.orders.services``.
"""

from django.db import models

from retail.fields import MoneyField, QuantityField


class PickupStatus(models.TextChoices):
    ROUTED = "routed", "To pick"
    PICKING = "picking", "Being picked"
    READY = "ready", "Ready for collection"
    COLLECTED = "collected", "Collected"
    CANCELLED = "cancelled", "Cancelled"


OPEN_FOR_PICKING = (PickupStatus.ROUTED, PickupStatus.PICKING)


class PickupOrder(models.Model):
    id = models.UUIDField(primary_key=True, editable=False, help_text="The cloud order's id.")
    number = models.CharField(max_length=20, unique=True)
    store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=PickupStatus.choices, default=PickupStatus.ROUTED)
    member_id = models.UUIDField(null=True, blank=True)
    prepaid = models.BooleanField(default=False)
    customer_name = models.CharField(max_length=160, blank=True)
    subtotal = MoneyField(default=0)
    tax_total = MoneyField(default=0)
    total = MoneyField(default=0)
    placed_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    sale = models.ForeignKey(
        "sales.Sale",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The till sale the customer pays a not prepaid order with.",
    )

    class Meta:
        ordering = ["placed_at", "number"]
        indexes = [models.Index(fields=["status", "placed_at"], name="pickup_order_status_idx")]

    def __str__(self) -> str:
        return self.number


class PickupLine(models.Model):
    order = models.ForeignKey(PickupOrder, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(max_length=32)
    description = models.CharField(max_length=200)
    quantity = QuantityField()
    picked = QuantityField(default=0)
    unit_price = MoneyField()
    line_total = MoneyField()

    class Meta:
        ordering = ["order", "position"]
        constraints = [
            models.UniqueConstraint(fields=["order", "position"], name="pickup_line_position_once"),
            models.CheckConstraint(
                condition=models.Q(picked__gte=0) & models.Q(picked__lte=models.F("quantity")),
                name="pickup_line_picked_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"
