"""Work for a terminal's devices, written in the transaction of the sale (or report) that needs it.

The print and drawer workers (elsewhere in this package) consume these rows; a sale never talks to
hardware itself, so a jammed printer can never lose or delay a sale.
"""

from django.db import models

from retail.fields import IdField


class PrintKind(models.TextChoices):
    RECEIPT = "receipt", "Receipt"
    REPORT = "report", "Report"
    TEST = "test", "Test page"
    REPRINT = "reprint", "Reprint"


class PrintStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    PRINTING = "printing", "Printing"
    PRINTED = "printed", "Printed"
    FAILED = "failed", "Failed"


class PrintJob(models.Model):
    """One document to print. ``payload`` maps 1:1 onto ``hardware.receipt.Receipt`` (receipts,
    reprints) or ``hardware.receipt.Report`` (reports), money as decimal strings, so the worker needs
    no database queries to print it."""

    id = IdField()
    terminal = models.ForeignKey("stores.Terminal", on_delete=models.PROTECT, related_name="print_jobs")
    kind = models.CharField(max_length=8, choices=PrintKind.choices)
    status = models.CharField(max_length=8, choices=PrintStatus.choices, default=PrintStatus.QUEUED)
    payload = models.JSONField()
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    printed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["terminal", "status", "next_attempt_at"], name="print_job_queue_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.status} @ {self.terminal_id}"


class DrawerReason(models.TextChoices):
    SALE = "sale", "Sale"
    NO_SALE = "no_sale", "No sale"


class DrawerStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    DISCARDED = "discarded", "Discarded"


class DrawerKick(models.Model):
    """A request to open a terminal's cash drawer."""

    terminal = models.ForeignKey("stores.Terminal", on_delete=models.PROTECT, related_name="drawer_kicks")
    requested_at = models.DateTimeField()
    reason = models.CharField(max_length=8, choices=DrawerReason.choices)
    status = models.CharField(max_length=10, choices=DrawerStatus.choices, default=DrawerStatus.PENDING)

    class Meta:
        ordering = ["requested_at"]
        indexes = [models.Index(fields=["terminal", "status"], name="drawer_kick_pending_idx")]

    def __str__(self) -> str:
        return f"{self.reason} {self.status} @ {self.terminal_id}"
