"""Pre-aggregated sales figures by day and store, so dashboards never scan the sales table.

Every row is a running total kept by ``cloud.reporting.services`` in the same transaction that
applies a completed sale at the cloud (``sales_rollup_record``) or hands an online order over
(``online_orders_rollup_record``). ``day`` is the store's local calendar day.
"""

from django.db import models

from retail.fields import MoneyField, QuantityField


class Channel(models.TextChoices):
    STORE = "store", "In store"
    ONLINE = "online", "Online"


class DailyStoreSales(models.Model):
    """Totals of one store's completed sales and returns on one day through one channel.

    ``store`` empty: the online orders delivered that day, which no store hands over (chain-wide
    figures count them, a store's do not); their day is the deployment's ``TIME_ZONE``'s.
    """

    day = models.DateField()
    store = models.ForeignKey(
        "stores.Store", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.STORE)
    sales_count = models.IntegerField(default=0, help_text="Completed sales (not returns).")
    returns_count = models.IntegerField(default=0)
    total = MoneyField(max_digits=16, default=0, help_text="Net of returns; what customers paid.")
    tax_total = MoneyField(max_digits=16, default=0)
    discount_total = MoneyField(max_digits=16, default=0)
    lines_count = models.IntegerField(default=0, help_text="Non-voided lines of sales: basket size.")
    units = QuantityField(max_digits=16, default=0, help_text="Quantity sold (kg count as given).")
    member_sales_count = models.IntegerField(default=0)
    member_total = MoneyField(max_digits=16, default=0)
    points_earned = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "daily store sales"
        ordering = ["-day", "store"]
        constraints = [
            models.UniqueConstraint(fields=["day", "store", "channel"], name="rollup_one_row_per_day_store"),
            # NULLs are distinct in a unique index: deliveries (no store) need their own.
            models.UniqueConstraint(
                fields=["day", "channel"],
                condition=models.Q(store__isnull=True),
                name="rollup_one_row_per_day_without_store",
            ),
        ]
        # Covering (every summed column in the index), so the dashboards never touch the table rows.
        indexes = [
            models.Index(
                fields=[
                    "day",
                    "store",
                    "channel",
                    "sales_count",
                    "returns_count",
                    "total",
                    "tax_total",
                    "discount_total",
                    "lines_count",
                    "member_sales_count",
                    "member_total",
                ],
                name="rollup_day_store_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.store_id} {self.channel}: {self.total}"


class DailyTender(models.Model):
    """What was paid with each tender kind at a store on a day (refunds negative)."""

    day = models.DateField()
    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8)
    count = models.IntegerField(default=0)
    amount = MoneyField(max_digits=16, default=0)

    class Meta:
        ordering = ["-day", "store", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["day", "store", "kind"], name="tender_one_row_per_day_store_kind")
        ]
        indexes = [models.Index(fields=["day", "kind", "amount", "count"], name="tender_day_kind_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.store_id} {self.kind}: {self.amount}"


class DailyProductSales(models.Model):
    """Quantity and revenue of one product at one store on one day (returns subtract)."""

    day = models.DateField()
    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    quantity = QuantityField(max_digits=16, default=0)
    total = MoneyField(max_digits=16, default=0)

    class Meta:
        verbose_name_plural = "daily product sales"
        ordering = ["-day", "store", "product"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "store", "product"], name="product_rollup_one_row_per_day_store"
            )
        ]
        indexes = [
            models.Index(
                fields=["store", "day", "product", "total", "quantity"], name="rollup_store_day_product_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.store_id} {self.product_id}: {self.quantity}"


class DailyChainProductSales(models.Model):
    """Like ``DailyProductSales`` summed over every store: the chain's top products without a scan."""

    day = models.DateField()
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    quantity = QuantityField(max_digits=16, default=0)
    total = MoneyField(max_digits=16, default=0)

    class Meta:
        verbose_name_plural = "daily chain product sales"
        ordering = ["-day", "product"]
        constraints = [
            models.UniqueConstraint(fields=["day", "product"], name="chain_product_rollup_one_row_per_day")
        ]
        indexes = [models.Index(fields=["day", "product", "total", "quantity"], name="chain_product_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.product_id}: {self.quantity}"


class MonthlyChainProductSales(models.Model):
    """The chain's product sales by calendar month: top products over a year read ~12 rows per product."""

    month = models.DateField(help_text="The first day of the month.")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    quantity = QuantityField(max_digits=16, default=0)
    total = MoneyField(max_digits=16, default=0)

    class Meta:
        verbose_name_plural = "monthly chain product sales"
        ordering = ["-month", "product"]
        constraints = [
            models.UniqueConstraint(
                fields=["month", "product"], name="chain_product_rollup_one_row_per_month"
            )
        ]
        indexes = [
            models.Index(fields=["month", "product", "total", "quantity"], name="chain_product_month_idx")
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.product_id}: {self.quantity}"


class RolledUpSale(models.Model):
    """The sales already counted, so applying the same sale twice never counts it twice."""

    sale_id = models.UUIDField(primary_key=True)
    day = models.DateField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return str(self.sale_id)


class RolledUpOrder(models.Model):
    """The online orders already counted as online sales, each once."""

    order_id = models.UUIDField(primary_key=True)
    day = models.DateField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return str(self.order_id)
