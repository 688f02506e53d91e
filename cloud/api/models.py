from django.db import models

from retail.fields import IdField, MoneyField, QuantityField


class ApiKey(models.Model):
    """An integration's key (the web shop, a marketplace). Only a hash of the secret is stored.

    A key reads ``ot_<prefix>_<secret>``: the prefix finds the row, the secret's SHA-256 must match.
    """

    id = IdField()
    name = models.CharField(max_length=80, help_text="Who uses it, e.g. 'Web shop'.")
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    rate_limit_per_minute = models.PositiveIntegerField(default=600)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_authenticated(self) -> bool:  # lets DRF treat the key as the request's principal
        return True


class OnlinePointsPosting(models.Model):
    """An integration's points posting by its own reference: posting it again changes nothing."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(max_length=64)
    entry = models.OneToOneField("members.PointsEntry", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "reference"], name="online_points_reference_once")
        ]

    def __str__(self) -> str:
        return self.reference


class Fulfilment(models.TextChoices):
    DELIVERY = "delivery", "Delivery"
    PICKUP = "pickup", "Pick up in store"


class OrderStatus(models.TextChoices):
    PLACED = "placed", "Placed"  # what it waits for depends on the fulfilment: Order.status_text
    ROUTED = "routed", "At the store"
    PICKING = "picking", "Being picked"
    READY = "ready", "Ready for collection"
    COLLECTED = "collected", "Collected"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"


# Orders in these states hold their quantities at the pickup store.
OPEN_STATUSES = (OrderStatus.PLACED, OrderStatus.ROUTED, OrderStatus.PICKING, OrderStatus.READY)
# The customer has the goods: the order is a sale (cloud.api.orders.online_sale_record).
HANDED_OVER = (OrderStatus.COLLECTED, OrderStatus.DELIVERED)

# A status's text where it depends on the fulfilment (otherwise the status's label): a pickup order
# waits for its store to pull it; a delivery is routed to no store, it waits to be shipped.
_STATUS_TEXT = {
    (Fulfilment.PICKUP, OrderStatus.PLACED): "Placed, waiting for the store",
    (Fulfilment.DELIVERY, OrderStatus.PLACED): "Placed, waiting to be shipped",
}


class Order(models.Model):
    """An online order, for delivery or for pickup at a store. Totals come from ``retail.pricing``."""

    id = IdField()
    number = models.CharField(max_length=20, unique=True)
    api_key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, related_name="orders")
    reference = models.CharField(max_length=64, help_text="The integration's own order id.")
    fulfilment = models.CharField(max_length=8, choices=Fulfilment.choices)
    store = models.ForeignKey(
        "stores.Store", on_delete=models.PROTECT, null=True, blank=True, related_name="online_orders"
    )
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, null=True, blank=True, related_name="online_orders"
    )
    status = models.CharField(max_length=10, choices=OrderStatus.choices, default=OrderStatus.PLACED)
    prepaid = models.BooleanField(default=False)
    subtotal = MoneyField(default=0)
    tax_total = MoneyField(default=0)
    total = MoneyField(default=0)
    customer_name = models.CharField(max_length=160, blank=True)
    address = models.CharField(max_length=240, blank=True)
    postcode = models.CharField(max_length=16, blank=True)
    city = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    placed_event = models.ForeignKey(
        "outbox.Event",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        help_text="The order.placed that sent a pickup order to its store (a snapshot sends it again).",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["api_key", "reference"], name="order_reference_once_per_key")
        ]
        indexes = [models.Index(fields=["store", "status"], name="order_store_status_idx")]

    def __str__(self) -> str:
        return self.number

    @property
    def status_text(self) -> str:
        """The status as the shop and head office read it, e.g. "Placed, waiting for the store"."""
        return _STATUS_TEXT.get((self.fulfilment, self.status)) or self.get_status_display()


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(max_length=32)
    description = models.CharField(max_length=200)
    quantity = QuantityField()
    unit_price = MoneyField()
    tax_rate = models.DecimalField(max_digits=6, decimal_places=4)
    line_total = MoneyField()

    class Meta:
        ordering = ["order", "position"]
        indexes = [models.Index(fields=["product", "order"], name="order_line_product_idx")]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class OrderStatusChange(models.Model):
    """Every status an order went through, for the shop and for head office."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="history")
    status = models.CharField(max_length=10, choices=OrderStatus.choices)
    note = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["order", "at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.status}"
