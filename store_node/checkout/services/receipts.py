"""Receipt and report print payloads: JSON that maps 1:1 onto ``hardware.receipt.Receipt`` and
``hardware.receipt.Report`` (same field names; money and quantities as decimal strings, times as
ISO 8601, nested dataclasses as objects, tuples as lists), so the print worker builds the document
without a database query."""

from __future__ import annotations

import zoneinfo
from decimal import Decimal

from django.conf import settings

from retail.money import round_money
from retail.sales.models import SaleKind

TENDER_LABELS = {"cash": "Cash", "card": "Card", "points": "Points"}


def _s(value: Decimal) -> str:
    return f"{value}"


def _percent(rate: Decimal) -> str:
    return _s((rate * 100).quantize(Decimal("0.01")))


def tax_codes(rates) -> dict[Decimal, str]:
    """A letter per tax rate of the sale, lowest rate first: A, B, C…"""
    return {rate: chr(ord("A") + i) for i, rate in enumerate(sorted(set(rates)))}


def receipt_payload(
    *,
    sale,
    store,
    terminal,
    cashier,
    lines,
    units,
    tax_lines,
    tenders,
    discounts,
    member=None,
    points_redeemed: int = 0,
    title: str | None = None,
) -> dict:
    """``units`` maps product id to its unit (``kg`` lines print as weights)."""
    codes = tax_codes(t.rate for t in tax_lines)
    local = sale.completed_at.astimezone(zoneinfo.ZoneInfo(store.time_zone))
    receipt_lines = []
    for line in lines:
        if line.voided:
            continue
        weighed = units.get(line.product_id) == "kg"
        # What the line costs before any discount (pricing step 1); a return shows what it refunds.
        shown = (
            line.line_total if sale.kind == SaleKind.RETURN else round_money(line.unit_price * line.quantity)
        )
        label = (
            f"Discount {line.discount_value.normalize():f}%"
            if line.discount_kind == "percent"
            else "Discount"
        )
        receipt_lines.append(
            {
                "description": line.description,
                "unit_price": _s(line.unit_price),
                "line_total": _s(shown),
                "quantity": None if weighed else _s(line.quantity.normalize()),
                "weight": _s(line.quantity) if weighed else None,
                "unit": "kg" if weighed else None,
                "discount": {"label": label, "amount": _s(line.line_discount)}
                if line.line_discount
                else None,
                "tax_code": codes.get(line.tax_rate),
            }
        )
    line_discounts = sum((line.line_discount for line in lines), Decimal("0.00"))
    change = sum((t.change for t in tenders), Decimal("0.00"))
    return {
        "receipt_number": sale.receipt_number,
        "issued_at": local.isoformat(),
        "cashier": cashier.first_name or cashier.username,
        "lines": receipt_lines,
        "subtotal": _s(sale.subtotal - line_discounts),
        "total": _s(sale.total),
        "cash_rounding": _s(sale.cash_rounding) if sale.cash_rounding else None,
        "header_lines": [
            line for line in (store.name, store.address, f"{store.postcode} {store.city}".strip()) if line
        ],
        "discounts": [
            {
                "label": d.reason
                or (f"Discount {d.value.normalize():f}%" if d.kind == "percent" else "Discount"),
                "amount": _s(d.amount),
            }
            for d in discounts
            if d.amount
        ],
        "taxes": [
            {"rate": _percent(t.rate), "taxable": _s(t.taxable), "tax": _s(t.tax), "code": codes[t.rate]}
            for t in tax_lines
        ],
        "tenders": [
            {
                "kind": TENDER_LABELS.get(t.kind, t.kind),
                "amount": _s(t.tendered if t.tendered is not None else t.amount),
                "reference": t.reference or None,
            }
            for t in tenders
            if t.approved
        ],
        "change": _s(change) if any(t.kind == "cash" for t in tenders) else None,
        "loyalty": (
            {
                "member_number": member.number,
                "points_earned": sale.points_earned,
                "points_redeemed": points_redeemed,
                "points_balance": member.points_balance,
            }
            if member
            else None
        ),
        "footer_lines": ["Thank you for shopping with us"],
        "currency": settings.CURRENCY,
        "terminal": terminal.label,
        "title": title or ("REFUND" if sale.kind == SaleKind.RETURN else None),
    }


def report_payload(report: dict) -> dict:
    """A stored X/Z report (``retail.shifts.services.shift_report``) as a ``hardware.receipt.Report``."""
    rows = [
        {"label": "Sales", "value": None, "heading": True, "emphasis": False},
        {"label": "Sales count", "value": report["sales_count"], "heading": False, "emphasis": False},
        {"label": "Sales total", "value": report["sales_total"], "heading": False, "emphasis": False},
        {"label": "Returns count", "value": report["returns_count"], "heading": False, "emphasis": False},
        {"label": "Returns total", "value": report["returns_total"], "heading": False, "emphasis": False},
        {"label": "Discounts", "value": report["discount_total"], "heading": False, "emphasis": False},
        {"label": "Net sales", "value": report["net_sales"], "heading": False, "emphasis": True},
        {"label": "Tax", "value": None, "heading": True, "emphasis": False},
    ]
    for t in report["taxes"]:
        rate = _percent(Decimal(t["rate"]))
        rows.append(
            {
                "label": f"{t['tax_class']} {rate}% taxable",
                "value": t["taxable"],
                "heading": False,
                "emphasis": False,
            }
        )
        rows.append(
            {"label": f"{t['tax_class']} {rate}% tax", "value": t["tax"], "heading": False, "emphasis": False}
        )
    rows.append({"label": "Tenders", "value": None, "heading": True, "emphasis": False})
    for kind, amount in report["tenders"].items():
        rows.append(
            {"label": TENDER_LABELS.get(kind, kind), "value": amount, "heading": False, "emphasis": False}
        )
    rows += [
        {"label": "Cash", "value": None, "heading": True, "emphasis": False},
        {"label": "Opening float", "value": report["opening_float"], "heading": False, "emphasis": False},
        {"label": "Paid in", "value": report["paid_in"], "heading": False, "emphasis": False},
        {"label": "Paid out", "value": report["paid_out"], "heading": False, "emphasis": False},
        {"label": "Expected in drawer", "value": report["expected_cash"], "heading": False, "emphasis": True},
    ]
    if "counted_cash" in report:
        rows.append(
            {"label": "Counted", "value": report["counted_cash"], "heading": False, "emphasis": False}
        )
        rows.append(
            {"label": "Over/short", "value": report["over_short"], "heading": False, "emphasis": True}
        )
    return {
        "kind": report["kind"],
        "number": report["number"],
        "generated_at": report["generated_at"],
        "rows": rows,
        "header_lines": [],
        "terminal": report["terminal"],
        "cashier": report["cashier"],
        "period_start": report["opened_at"],
        "period_end": report.get("closed_at", report["generated_at"]),
        "currency": settings.CURRENCY,
        "footer_lines": [],
    }
