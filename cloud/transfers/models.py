"""Stock transfers between two stores, as head office runs them.

Head office drafts a transfer (from store, to store, lines), then sends it: the goods leave the
sending store (``transfer_out`` movements there, decided by head office) and the transfer travels
to both stores as ``transfer.sent``. The receiving store counts what arrived and answers with
``transfer.received`` (and its own ``transfer_in`` movements); a line whose received quantity
differs from what was sent is a discrepancy, kept for head office to resolve.
"""

from django.db import models

from retail.fields import IdField, QuantityField


class TransferStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENT = "sent", "In transit"
    RECEIVED = "received", "Received"
    CANCELLED = "cancelled", "Cancelled"


class Transfer(models.Model):
    id = IdField()
    serial = models.PositiveIntegerField(unique=True, editable=False)
    number = models.CharField(
        max_length=16, unique=True, editable=False, help_text="Short enough to say on the phone: T-0042."
    )
    from_store = models.ForeignKey(
        "stores.Store", on_delete=models.PROTECT, related_name="+", verbose_name="from store"
    )
    to_store = models.ForeignKey(
        "stores.Store", on_delete=models.PROTECT, related_name="+", verbose_name="to store"
    )
    status = models.CharField(max_length=10, choices=TransferStatus.choices, default=TransferStatus.DRAFT)
    note = models.CharField(
        max_length=200, blank=True, help_text="Shown to both stores, e.g. why it is sent."
    )
    created_by = models.ForeignKey(
        "staff.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(editable=False)
    updated_at = models.DateTimeField(editable=False)
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_event = models.ForeignKey(
        "outbox.Event",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        help_text="The transfer.sent event, replayed in the snapshots of both stores while in transit.",
    )
    received_at = models.DateTimeField(null=True, blank=True, editable=False)
    received_by = models.CharField(max_length=160, blank=True, editable=False)
    has_discrepancy = models.BooleanField(
        default=False, editable=False, help_text="Some line was received short or over."
    )
    discrepancy_resolved_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-serial"]
        indexes = [models.Index(fields=["status", "to_store"], name="transfer_status_to_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(from_store=models.F("to_store")), name="transfer_between_two_stores"
            )
        ]

    def __str__(self) -> str:
        return self.number


class TransferLine(models.Model):
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    quantity = QuantityField(help_text="Sent. 0 for an item the receiving store found but was not sent.")
    received = QuantityField(null=True, blank=True, help_text="Counted in by the receiving store.")

    class Meta:
        ordering = ["transfer", "position"]
        constraints = [
            models.UniqueConstraint(fields=["transfer", "position"], name="transfer_line_position_once"),
            models.UniqueConstraint(fields=["transfer", "product"], name="transfer_line_product_once"),
            models.CheckConstraint(condition=models.Q(quantity__gte=0), name="transfer_line_quantity_gte_0"),
            models.CheckConstraint(condition=models.Q(received__gte=0), name="transfer_line_received_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_id}"

    @property
    def difference(self):
        """Received minus sent (negative: short), once received."""
        return None if self.received is None else self.received - self.quantity


class TransferStatusChange(models.Model):
    """The transfer's history: every status it took, and when its discrepancy was resolved."""

    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="history")
    status = models.CharField(max_length=10, choices=TransferStatus.choices)
    at = models.DateTimeField()
    by = models.CharField(max_length=160, blank=True, help_text="A head-office user or a store code.")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["transfer", "id"]  # the order head office learnt them in
        verbose_name = "transfer history entry"
        verbose_name_plural = "transfer history"

    def __str__(self) -> str:
        return f"{self.transfer_id} {self.status} at {self.at}"
