from django.db import models

from retail.fields import IdField
from retail.stores.validators import validate_printer_address, validate_scanner_address


class Store(models.Model):
    """A shop of the chain. Its ``code`` is also its origin name in the event log, so it never changes."""

    id = IdField()
    code = models.CharField(max_length=8, unique=True, help_text="Short, permanent code such as S01.")
    name = models.CharField(max_length=120)
    address = models.CharField(max_length=240, blank=True)
    city = models.CharField(max_length=80, blank=True)
    postcode = models.CharField(max_length=16, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    vat_number = models.CharField(max_length=32, blank=True)
    time_zone = models.CharField(max_length=64, default="Europe/Berlin")
    region = models.CharField(
        max_length=40,
        blank=True,
        help_text="Stores of one region see each other's stock levels at their handhelds (blank is a "
        "region too). The online shop and head office see every store's.",
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Terminal(models.Model):
    """A checkout lane in a store, with the addresses of its devices (see hardware/addresses.py)."""

    id = IdField()
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="terminals")
    code = models.CharField(max_length=8, help_text="Lane code within the store, such as T02.")
    name = models.CharField(max_length=80, blank=True)
    printer_address = models.CharField(
        max_length=200, default="virtual://", blank=True, validators=[validate_printer_address]
    )
    printer_profile = models.CharField(max_length=40, default="TM-T88V")
    paper_width_mm = models.PositiveSmallIntegerField(choices=[(58, "58 mm"), (80, "80 mm")], default=80)
    drawer_pin = models.PositiveSmallIntegerField(choices=[(2, "pin 2"), (5, "pin 5")], default=2)
    scanner_address = models.CharField(max_length=200, blank=True, validators=[validate_scanner_address])
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["store__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["store", "code"], name="terminal_code_unique_per_store")
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The prefix of this lane's receipt numbers, e.g. ``S01-T02``."""
        return f"{self.store.code}-{self.code}"
