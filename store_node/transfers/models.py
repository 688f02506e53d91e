"""This store's copy of the transfers it is party to: those on their way here, to be received on the
handheld, and those sent from here, to follow.

Head office's transfer (``cloud.transfers.models.Transfer``) is the original; this copy arrives as
``transfer.sent`` with the same id and number. At the receiving store ``received`` is the count in
progress, confirmed by ``store_node.transfers.services.transfer_receive_confirm``; at the sending
store it is what the receiving store reported.
"""

from django.db import models

from retail.fields import QuantityField


class TransferStatus(models.TextChoices):
    SENT = "sent", "In transit"
    RECEIVED = "received", "Received"


class Transfer(models.Model):
    id = models.UUIDField(primary_key=True, editable=False, help_text="Head office's transfer id.")
    number = models.CharField(max_length=16, unique=True)
    from_store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="+")
    to_store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=TransferStatus.choices, default=TransferStatus.SENT)
    note = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField()
    received_at = models.DateTimeField(null=True, blank=True)
    received_by = models.CharField(max_length=160, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["sent_at", "number"]
        indexes = [models.Index(fields=["status", "sent_at"], name="store_transfer_status_idx")]

    def __str__(self) -> str:
        return self.number


class TransferLine(models.Model):
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(max_length=32)
    description = models.CharField(max_length=200)
    unit = models.CharField(max_length=8, default="each")
    expected = QuantityField(help_text="Sent by head office; 0 for an item that arrived but was not sent.")
    received = QuantityField(default=0)

    class Meta:
        ordering = ["transfer", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["transfer", "position"], name="store_transfer_line_position_once"
            ),
            models.UniqueConstraint(fields=["transfer", "product"], name="store_transfer_line_product_once"),
            models.CheckConstraint(
                condition=models.Q(received__gte=0) & models.Q(expected__gte=0),
                name="store_transfer_line_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.received}/{self.expected} x {self.sku}"

    @property
    def difference(self):
        return self.received - self.expected
