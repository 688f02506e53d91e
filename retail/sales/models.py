from django.conf import settings
from django.db import models
from django.db.models import Q

from retail.fields import IdField, MoneyField, QuantityField


class SaleKind(models.TextChoices):
    SALE = "sale", "Sale"
    RETURN = "return", "Return"


class SaleStatus(models.TextChoices):
    OPEN = "open", "Open"
    SUSPENDED = "suspended", "Suspended"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class Sale(models.Model):
    """A sale or a return at a till. Once completed it is an immutable fact, synced to the cloud."""

    id = IdField()
    kind = models.CharField(max_length=8, choices=SaleKind.choices, default=SaleKind.SALE)
    status = models.CharField(max_length=10, choices=SaleStatus.choices, default=SaleStatus.OPEN)
    # No index of its own: ``sale_store_day_idx`` (store, completed_at) serves every look-up by store.
    store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="sales", db_index=False)
    terminal = models.ForeignKey("stores.Terminal", on_delete=models.PROTECT, related_name="sales")
    shift = models.ForeignKey(
        "shifts.Shift", on_delete=models.PROTECT, null=True, blank=True, related_name="sales"
    )
    cashier = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sales")
    member = models.ForeignKey(
        "members.Member",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sales",
        db_index=False,
    )
    original_sale = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="returns", db_index=False
    )
    # Unique by a constraint, not ``unique=True``: on PostgreSQL the field option adds a second,
    # ``varchar_pattern_ops`` index for LIKE 'x%' that no query here makes (look-ups are exact, the
    # admin's search is a contains), and every sale the cloud ingests paid for it. NULL, not "", for
    # a sale without one yet: the unique constraint lets any number of NULLs be.
    receipt_number = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001
    subtotal = MoneyField(default=0)
    discount_total = MoneyField(default=0)
    tax_total = MoneyField(default=0)
    total = MoneyField(default=0)
    cash_rounding = MoneyField(default=0, help_text="Rounding of the cash part to the smallest coin.")
    points_earned = models.IntegerField(default=0)
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["store", "completed_at"], name="sale_store_day_idx"),
            models.Index(fields=["status", "terminal"], name="sale_status_terminal_idx"),
            # A sale names a member only when one was given at the till, a return its original sale:
            # these indexes hold those rows alone, not an entry per anonymous sale.
            models.Index(fields=["member"], name="sale_member_idx", condition=Q(member__isnull=False)),
            models.Index(
                fields=["original_sale"], name="sale_returns_idx", condition=Q(original_sale__isnull=False)
            ),
        ]
        constraints = [models.UniqueConstraint(fields=["receipt_number"], name="sale_receipt_number_unique")]

    def __str__(self) -> str:
        return self.receipt_number or f"{self.kind} {self.id}"


class DiscountKind(models.TextChoices):
    PERCENT = "percent", "Percent"
    AMOUNT = "amount", "Amount"


class SaleLine(models.Model):
    id = IdField()
    # No index of its own: ``line_position_unique`` (sale, position) serves every look-up by sale.
    sale = models.ForeignKey(Sale, on_delete=models.CASCADE, related_name="lines", db_index=False)
    position = models.PositiveIntegerField()
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(max_length=32)
    description = models.CharField(max_length=200)
    barcode = models.CharField(max_length=64, blank=True, help_text="What was scanned, if anything.")
    quantity = QuantityField(help_text="Units, or kilograms for weighed products.")
    unit_price = MoneyField()
    price_overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    discount_kind = models.CharField(max_length=8, choices=DiscountKind.choices, blank=True)
    discount_value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    line_discount = MoneyField(default=0)
    sale_discount_share = MoneyField(default=0)
    line_total = MoneyField(default=0, help_text="After all discounts; includes tax when prices do.")
    tax_class = models.CharField(max_length=16)
    tax_rate = models.DecimalField(max_digits=6, decimal_places=4)
    voided = models.BooleanField(default=False)
    original_line = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="return_lines", db_index=False
    )
    restock = models.BooleanField(default=True, help_text="For returns: back on the shelf or written off.")

    class Meta:
        ordering = ["sale", "position"]
        constraints = [models.UniqueConstraint(fields=["sale", "position"], name="line_position_unique")]
        # Most lines are neither a return's nor repriced: these two hold only the lines that are.
        indexes = [
            models.Index(
                fields=["original_line"], name="line_returned_idx", condition=Q(original_line__isnull=False)
            ),
            models.Index(
                fields=["price_overridden_by"],
                name="line_overridden_idx",
                condition=Q(price_overridden_by__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}: {self.quantity} x {self.description}"


class SaleDiscount(models.Model):
    """A discount on the whole sale, spread over its lines (see docs/money.md)."""

    sale = models.ForeignKey(Sale, on_delete=models.CASCADE, related_name="discounts")
    kind = models.CharField(max_length=8, choices=DiscountKind.choices)
    value = models.DecimalField(max_digits=12, decimal_places=2)
    amount = MoneyField(default=0)
    reason = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.value}"


class SaleTaxLine(models.Model):
    sale = models.ForeignKey(Sale, on_delete=models.CASCADE, related_name="tax_lines")
    tax_class = models.CharField(max_length=16)
    rate = models.DecimalField(max_digits=6, decimal_places=4)
    taxable = MoneyField(help_text="The base the tax was computed on.")
    tax = MoneyField()

    class Meta:
        ordering = ["sale", "rate"]

    def __str__(self) -> str:
        return f"{self.tax_class} {self.rate}: {self.tax}"


class TenderKind(models.TextChoices):
    CASH = "cash", "Cash"
    CARD = "card", "Card"
    POINTS = "points", "Points"


class Tender(models.Model):
    id = IdField()
    sale = models.ForeignKey(Sale, on_delete=models.CASCADE, related_name="tenders")
    kind = models.CharField(max_length=8, choices=TenderKind.choices)
    amount = MoneyField(help_text="What this tender pays of the sale (negative for refunds).")
    tendered = MoneyField(null=True, blank=True, help_text="Cash handed over.")
    change = MoneyField(default=0)
    reference = models.CharField(max_length=64, blank=True, help_text="Card approval reference.")
    approved = models.BooleanField(default=True)
    points = models.IntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["sale", "created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"


class ReceiptCounter(models.Model):
    """The last receipt number used by a terminal; advanced in the sale's transaction, so gapless."""

    terminal = models.OneToOneField("stores.Terminal", on_delete=models.CASCADE, primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.terminal_id} @ {self.last_number}"
