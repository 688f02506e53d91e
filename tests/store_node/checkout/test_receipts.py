"""The print payload maps 1:1 onto hardware.receipt's dataclasses: the worker needs no queries."""

from datetime import datetime
from decimal import Decimal

import pytest

from hardware.layout import PAPER_80MM
from hardware.printer import receipt_bytes
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
from store_node.checkout.services.sales import sale_set_discount, sale_set_line_discount
from store_node.checkout.services.shifts import till_shift_close
from store_node.checkout.services.tenders import sale_complete
from store_node.devices.models import PrintJob
from tests.store_node.checkout.helpers import MILK, ring

pytestmark = pytest.mark.django_db


def _dec(value):
    return None if value is None else Decimal(value)


def receipt_from_payload(p: dict) -> Receipt:
    """What the print worker does: JSON to dataclasses, decimal strings to Decimals, nothing else."""
    return Receipt(
        receipt_number=p["receipt_number"],
        issued_at=datetime.fromisoformat(p["issued_at"]),
        cashier=p["cashier"],
        lines=tuple(
            ReceiptLine(
                description=x["description"],
                unit_price=Decimal(x["unit_price"]),
                line_total=Decimal(x["line_total"]),
                quantity=_dec(x["quantity"]),
                weight=_dec(x["weight"]),
                unit=x["unit"],
                discount=LineDiscount(x["discount"]["label"], Decimal(x["discount"]["amount"]))
                if x["discount"]
                else None,
                tax_code=x["tax_code"],
            )
            for x in p["lines"]
        ),
        subtotal=Decimal(p["subtotal"]),
        total=Decimal(p["total"]),
        header_lines=tuple(p["header_lines"]),
        discounts=tuple(SaleDiscount(d["label"], Decimal(d["amount"])) for d in p["discounts"]),
        taxes=tuple(
            TaxRow(Decimal(t["rate"]), Decimal(t["taxable"]), Decimal(t["tax"]), t["code"])
            for t in p["taxes"]
        ),
        tenders=tuple(Tender(t["kind"], Decimal(t["amount"]), t["reference"]) for t in p["tenders"]),
        change=_dec(p["change"]),
        loyalty=LoyaltySummary(**p["loyalty"]) if p["loyalty"] else None,
        footer_lines=tuple(p["footer_lines"]),
        currency=p["currency"],
        terminal=p["terminal"],
        title=p["title"],
    )


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
    assert (receipt.total, receipt.change) == (Decimal("5.55"), Decimal("14.45"))
    assert receipt.loyalty == LoyaltySummary(member.number, 5, 0, 5)
    assert receipt.issued_at.utcoffset() is not None and receipt.terminal == "S01-T02"
    assert b"S01-T02-000001" in receipt_bytes(receipt, paper=PAPER_80MM, profile="TM-T88V")


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
