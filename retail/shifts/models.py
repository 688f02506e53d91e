from django.conf import settings
from django.db import models

from retail.fields import IdField, MoneyField


class ShiftStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class Shift(models.Model):
    """A cashier's session on one terminal, from opening float to counted cash."""

    id = IdField()
    store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="shifts")
    terminal = models.ForeignKey("stores.Terminal", on_delete=models.PROTECT, related_name="shifts")
    cashier = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="shifts")
    status = models.CharField(max_length=8, choices=ShiftStatus.choices, default=ShiftStatus.OPEN)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    opening_float = MoneyField()
    expected_cash = MoneyField(null=True, blank=True)
    counted_cash = MoneyField(null=True, blank=True)
    over_short = MoneyField(null=True, blank=True, help_text="Counted minus expected: negative is short.")
    counted_denominations = models.JSONField(default=dict, blank=True)
    z_report = models.JSONField(null=True, blank=True, help_text="The Z report as stored at close.")

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["terminal"], condition=models.Q(status="open"), name="one_open_shift_per_terminal"
            )
        ]

    def __str__(self) -> str:
        return f"shift {self.terminal_id} {self.opened_at:%Y-%m-%d %H:%M}"


class CashMovementKind(models.TextChoices):
    PAID_IN = "paid_in", "Paid in"
    PAID_OUT = "paid_out", "Paid out"


class CashMovement(models.Model):
    """Cash put into or taken out of the drawer outside a sale, with the reason."""

    id = IdField()
    shift = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="cash_movements")
    kind = models.CharField(max_length=8, choices=CashMovementKind.choices)
    amount = MoneyField(help_text="Always positive; the kind gives the direction.")
    reason = models.CharField(max_length=200)
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="cash_movement_positive")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"
