"""What goes on a receipt or a Z/X report, as plain immutable values.

The caller (the sales service) has already computed every amount; nothing here adds,
rounds or derives money. Rendering only formats what it is given, so the printed receipt
is exactly what was stored for the sale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

__all__ = [
    "LineDiscount",
    "LoyaltySummary",
    "Receipt",
    "ReceiptLine",
    "Report",
    "ReportRow",
    "SaleDiscount",
    "TaxRow",
    "Tender",
]


@dataclass(frozen=True)
class LineDiscount:
    label: str
    # Positive number: the amount taken off; printed with a minus sign.
    amount: Decimal


@dataclass(frozen=True)
class ReceiptLine:
    """One sold item. Give ``quantity`` for counted goods or ``weight`` + ``unit`` for weighed ones."""

    description: str
    unit_price: Decimal
    line_total: Decimal
    quantity: Decimal | None = Decimal("1")
    weight: Decimal | None = None
    unit: str | None = None
    discount: LineDiscount | None = None
    # A short tax class letter printed after the total ("A"), matching TaxRow.code.
    tax_code: str | None = None

    def __post_init__(self) -> None:
        if self.weight is not None and self.unit is None:
            raise ValueError(f"line {self.description!r}: a weight needs a unit such as 'kg'")


@dataclass(frozen=True)
class SaleDiscount:
    label: str
    amount: Decimal


@dataclass(frozen=True)
class TaxRow:
    # Percent, e.g. Decimal("20") for 20 %.
    rate: Decimal
    taxable: Decimal
    tax: Decimal
    code: str | None = None


@dataclass(frozen=True)
class Tender:
    kind: str
    amount: Decimal
    reference: str | None = None


@dataclass(frozen=True)
class LoyaltySummary:
    member_number: str
    points_earned: int = 0
    points_redeemed: int = 0
    points_balance: int | None = None


@dataclass(frozen=True)
class Receipt:
    receipt_number: str
    # Printed in its own time zone: pass the store's local aware datetime.
    issued_at: datetime
    cashier: str
    lines: tuple[ReceiptLine, ...]
    subtotal: Decimal
    total: Decimal
    header_lines: tuple[str, ...] = ()
    discounts: tuple[SaleDiscount, ...] = ()
    taxes: tuple[TaxRow, ...] = ()
    tenders: tuple[Tender, ...] = ()
    change: Decimal | None = None
    # Rounding of the cash part to the smallest coin (+ when the customer pays more); not a discount.
    cash_rounding: Decimal | None = None
    loyalty: LoyaltySummary | None = None
    footer_lines: tuple[str, ...] = ()
    currency: str = "EUR"
    terminal: str | None = None
    # e.g. "COPY" or "REFUND": printed big under the header.
    title: str | None = None

    @property
    def barcode_data(self) -> str:
        """What the returns desk scans to find the sale: the receipt number itself."""
        return self.receipt_number


@dataclass(frozen=True)
class ReportRow:
    """A label and a value; a row with no value and ``heading=True`` starts a section."""

    label: str
    value: Decimal | int | str | None = None
    heading: bool = False
    emphasis: bool = False


@dataclass(frozen=True)
class Report:
    """A Z report (closes the shift, numbered) or X report (mid-shift read, not closing)."""

    kind: str  # "Z" or "X"
    number: str
    generated_at: datetime
    rows: tuple[ReportRow, ...]
    header_lines: tuple[str, ...] = ()
    terminal: str | None = None
    cashier: str | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    currency: str = "EUR"
    footer_lines: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.kind not in ("Z", "X"):
            raise ValueError(f"report kind must be 'Z' or 'X', got {self.kind!r}")
