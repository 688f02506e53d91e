"""Documents the device layer prints itself (the sale's receipts come from the checkout)."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from hardware.payload import receipt_to_dict
from hardware.receipt import Receipt, ReceiptLine, Tender


def test_page_payload(*, label: str, printer_address: str, store_name: str = "") -> dict:
    """A test page as a receipt: text in three scripts (code page switching), a barcode, a cut."""
    receipt = Receipt(
        receipt_number=f"TEST-{label}",
        issued_at=timezone.now(),
        cashier="-",
        terminal=label,
        title="TEST PAGE",
        header_lines=tuple(line for line in (store_name, f"Printer {printer_address}") if line),
        lines=(
            ReceiptLine("Latin: Grüße, Crème, Straße", Decimal("0.00"), Decimal("0.00")),
            ReceiptLine("Cyrillic: Привет", Decimal("0.00"), Decimal("0.00")),
            ReceiptLine("Symbols: € £", Decimal("0.00"), Decimal("0.00")),
        ),
        subtotal=Decimal("0.00"),
        total=Decimal("0.00"),
        tenders=(Tender("Test", Decimal("0.00")),),
        footer_lines=("If you can read this, the printer works.",),
    )
    return receipt_to_dict(receipt)
