"""The print payload maps 1:1 onto hardware.receipt's dataclasses: the worker needs no queries."""

from datetime import datetime
from decimal import Decimal

import pytest

from hardware.layout import PAPER_80MM, receipt_layout
from hardware.payload import receipt_from_dict
from hardware.preview import render_text
from hardware.printer import receipt_bytes
from hardware.receipt import (
    LineDiscount,
    LoyaltySummary,
    Receipt,
    Report,
    ReportRow,
)
from store_node.checkout.services.sales import sale_set_discount, sale_set_line_discount
from store_node.checkout.services.shifts import till_shift_close
from store_node.checkout.services.tenders import sale_complete
from store_node.devices.models import PrintJob
from tests.store_node.checkout.helpers import MILK, ring

pytestmark = pytest.mark.django_db


def receipt_from_payload(p: dict) -> Receipt:
    """What the print worker does: JSON to dataclasses, decimal strings to Decimals, nothing else."""
    return receipt_from_dict(p)


def test_receipt_payload_builds_the_hardware_receipt_and_renders(till, goods, member):
    sale = ring(till, (MILK, 2), "2101234012505", member=member)
    line = sale.lines.get(position=1)
    sale_set_line_discount(
        sale_id=sale.id, line_id=line.id, terminal=till.terminal, kind="percent", value="10"
    )
    sale_set_discount(sale_id=sale.id, terminal=till.terminal, kind="amount", value="0.50", reason="Coupon")
    sale_complete(
        sale_id=sale.id,
        terminal=till.terminal,
        cashier=till.cashier,
        tenders=[{"kind": "cash", "tendered": "20.00"}],
    )
    payload = PrintJob.objects.get(kind="receipt").payload

    receipt = receipt_from_payload(payload)
    assert set(payload) == set(Receipt.__dataclass_fields__)
    assert [(x.description, x.quantity, x.weight, x.line_total, x.tax_code) for x in receipt.lines] == [
        ("Whole Milk 1 l", Decimal("2"), None, Decimal("3.98"), "B"),
        ("Bananas", None, Decimal("1.250"), Decimal("2.49"), "A"),
    ]
    assert receipt.lines[0].discount == LineDiscount("Discount 10%", Decimal("0.40"))
    assert receipt.subtotal - sum(d.amount for d in receipt.discounts) == receipt.total
    # 5.57 due, paid in cash rounded to 5.55: the rounding is its own row, the change is from 5.55
    assert (receipt.total, receipt.cash_rounding, receipt.change) == (
        Decimal("5.57"),
        Decimal("-0.02"),
        Decimal("14.45"),
    )
    assert receipt.loyalty == LoyaltySummary(member.number, 5, 0, 5)
    assert receipt.issued_at.utcoffset() is not None and receipt.terminal == "S01-T02"
    assert b"S01-T02-000001" in receipt_bytes(receipt, paper=PAPER_80MM, profile="TM-T88V")


def test_cash_rounding_prints_as_its_own_signed_row_not_as_a_discount(till, goods):
    sale = ring(till, MILK)  # 1.99, paid in cash: 2.00 with 0.05 coins
    done = sale_complete(
        sale_id=sale.id,
        terminal=till.terminal,
        cashier=till.cashier,
        tenders=[{"kind": "cash", "tendered": "5.00"}],
    )
    receipt = receipt_from_payload(PrintJob.objects.get(kind="receipt").payload)

    assert done.cash_rounding == Decimal("0.01")
    assert (receipt.total, receipt.cash_rounding, receipt.change) == (
        Decimal("1.99"),
        Decimal("0.01"),
        Decimal("3.00"),
    )
    assert receipt.discounts == ()
    text = render_text(receipt_layout(receipt, PAPER_80MM))
    assert "Cash rounding" in text and "+0.01" in text and "--" not in text.replace("-" * 8, "")


def test_z_report_payload_builds_the_hardware_report(till, goods):
    sale = ring(till, MILK)
    sale_complete(
        sale_id=sale.id,
        terminal=till.terminal,
        cashier=till.cashier,
        tenders=[{"kind": "cash", "tendered": "2.00"}],
    )
    till_shift_close(terminal=till.terminal, denominations={"100.00": 1, "2.00": 1})
    p = PrintJob.objects.get(kind="report").payload

    report = Report(
        kind=p["kind"],
        number=p["number"],
        generated_at=datetime.fromisoformat(p["generated_at"]),
        rows=tuple(ReportRow(**r) for r in p["rows"]),
        header_lines=tuple(p["header_lines"]),
        terminal=p["terminal"],
        cashier=p["cashier"],
        period_start=datetime.fromisoformat(p["period_start"]),
        period_end=datetime.fromisoformat(p["period_end"]),
        currency=p["currency"],
        footer_lines=tuple(p["footer_lines"]),
    )
    rows = {r.label: r.value for r in report.rows}
    assert set(p) == set(Report.__dataclass_fields__)
    assert (report.kind, rows["Expected in drawer"], rows["Counted"], rows["Over/short"]) == (
        "Z",
        "102.00",
        "102.00",
        "0.00",
    )
