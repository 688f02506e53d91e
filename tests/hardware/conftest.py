from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal as D
from pathlib import Path

import pytest

# Test helpers (decoder, fake printer) live beside the tests, which are not a package.
sys.path.insert(0, str(Path(__file__).parent))

from fake_printer import FakeEpsonPrinter

from hardware.receipt import (
    LineDiscount,
    LoyaltySummary,
    Receipt,
    ReceiptLine,
    Report,
    ReportRow,
    SaleDiscount,
    TaxRow,
    Tender,
)
from hardware.simulators import VirtualSerialScanner, reset_virtual_printers

VIENNA_WINTER = timezone(timedelta(hours=1))


def make_receipt(**overrides: object) -> Receipt:
    """The fixed sale the snapshots are made from: weighed and counted goods, discounts,
    two tax rates, change, a member, and text that needs three code pages."""
    fields: dict[str, object] = dict(
        receipt_number="R-0001-000123",
        issued_at=datetime(2025, 11, 23, 14, 5, tzinfo=VIENNA_WINTER),
        cashier="Zoë",
        terminal="3",
        header_lines=("Omnitill Markt", "Hauptstraße 1, 1010 Wien", "UID ATU12345678"),
        lines=(
            ReceiptLine("Milch 1L", D("1.29"), D("1.29"), tax_code="B"),
            ReceiptLine("Crème fraîche", D("0.99"), D("2.97"), quantity=D("3"), tax_code="B"),
            ReceiptLine(
                "Äpfel Gala",
                D("2.49"),
                D("3.08"),
                quantity=None,
                weight=D("1.235"),
                unit="kg",
                tax_code="B",
                discount=LineDiscount("Aktion -10%", D("0.31")),
            ),
            ReceiptLine("Пельмени Сибирские замороженные 1кг", D("6.50"), D("6.50"), tax_code="A"),
        ),
        subtotal=D("13.53"),
        discounts=(SaleDiscount("Mitglied 5%", D("0.68")),),
        total=D("12.85"),
        taxes=(TaxRow(D("20"), D("5.42"), D("1.08"), "A"), TaxRow(D("10"), D("6.68"), D("0.67"), "B")),
        tenders=(Tender("Bar", D("20.00")),),
        change=D("7.15"),
        loyalty=LoyaltySummary("1234 5678", points_earned=12, points_redeemed=0, points_balance=345),
        footer_lines=("Danke für Ihren Einkauf! Umtausch binnen 14 Tagen nur mit Beleg. €",),
    )
    fields.update(overrides)
    return Receipt(**fields)  # type: ignore[arg-type]


def make_report(kind: str = "Z") -> Report:
    return Report(
        kind=kind,
        number="0042",
        generated_at=datetime(2025, 11, 23, 20, 1, tzinfo=VIENNA_WINTER),
        period_start=datetime(2025, 11, 23, 8, 0, tzinfo=VIENNA_WINTER),
        period_end=datetime(2025, 11, 23, 20, 0, tzinfo=VIENNA_WINTER),
        terminal="3",
        cashier="Zoë",
        header_lines=("Omnitill Markt",),
        rows=(
            ReportRow("Sales", heading=True),
            ReportRow("Receipts", 128),
            ReportRow("Gross sales", D("2345.60")),
            ReportRow("Discounts", D("-45.10")),
            ReportRow("Net sales", D("2300.50"), emphasis=True),
            ReportRow("Tenders", heading=True),
            ReportRow("Bar", D("1200.00")),
            ReportRow("Karte", D("1100.50")),
            ReportRow("Cash drawer", heading=True),
            ReportRow("Expected", D("1350.00")),
            ReportRow("Counted", D("1349.90")),
            ReportRow("Difference", D("-0.10"), emphasis=True),
        ),
    )


@pytest.fixture
def receipt() -> Receipt:
    return make_receipt()


@pytest.fixture
def fake_printer() -> Iterator[FakeEpsonPrinter]:
    printer = FakeEpsonPrinter()
    yield printer
    printer.close()


@pytest.fixture
def virtual_scanner() -> Iterator[VirtualSerialScanner]:
    with VirtualSerialScanner() as scanner:
        yield scanner


@pytest.fixture(autouse=True)
def _fresh_virtual_printers() -> Iterator[None]:
    reset_virtual_printers()
    yield
    reset_virtual_printers()
