"""Sale writes shared by every role: gapless receipt numbers and the ``sale.completed`` payload."""

from __future__ import annotations

from django.db import connection

from retail.sales.models import ReceiptCounter, Sale


def receipt_number_next(*, terminal) -> str:
    """The terminal's next receipt number, e.g. ``S01-T02-000123``.

    Invariant: gapless per terminal. The counter moves by an ``F()`` UPDATE inside the completing
    sale's transaction, so a rolled-back sale gives its number back and two sales can never take the
    same one (the UPDATE holds the row lock, or SQLite's write lock, until commit).
    """
    if not connection.in_atomic_block:
        raise RuntimeError("receipt numbers are taken inside the transaction of the sale")
    # One UPDATE … RETURNING (SQLite >= 3.35, PostgreSQL): the increment and its read in one statement.
    table = connection.ops.quote_name(ReceiptCounter._meta.db_table)
    column = connection.ops.quote_name(ReceiptCounter._meta.get_field("terminal").column)
    sql = f"UPDATE {table} SET last_number = last_number + 1 WHERE {column} = %s RETURNING last_number"
    terminal_id = ReceiptCounter._meta.get_field("terminal").get_db_prep_value(terminal.id, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [terminal_id])
        row = cursor.fetchone()
        if row is None:  # the terminal's first receipt
            ReceiptCounter.objects.get_or_create(terminal_id=terminal.id)
            cursor.execute(sql, [terminal_id])
            row = cursor.fetchone()
    return f"{terminal.label}-{row[0]:06d}"


def sale_completed_payload(sale: Sale, lines, discounts, tax_lines, tenders) -> dict:
    """The ``sale.completed`` event body (docs/events.md), from rows already written."""
    return {
        "id": sale.id,
        "kind": sale.kind,
        "store_id": sale.store_id,
        "terminal_id": sale.terminal_id,
        "shift_id": sale.shift_id,
        "cashier_id": sale.cashier_id,
        "member_id": sale.member_id,
        "original_sale_id": sale.original_sale_id,
        "receipt_number": sale.receipt_number,
        "created_at": sale.created_at,
        "completed_at": sale.completed_at,
        "subtotal": sale.subtotal,
        "discount_total": sale.discount_total,
        "tax_total": sale.tax_total,
        "total": sale.total,
        "cash_rounding": sale.cash_rounding,
        "points_earned": sale.points_earned,
        "lines": [
            {
                "id": line.id,
                "position": line.position,
                "product_id": line.product_id,
                "sku": line.sku,
                "description": line.description,
                "barcode": line.barcode,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "line_discount": line.line_discount,
                "sale_discount_share": line.sale_discount_share,
                "line_total": line.line_total,
                "tax_class": line.tax_class,
                "tax_rate": line.tax_rate,
                "voided": line.voided,
                "original_line_id": line.original_line_id,
                "restock": line.restock,
            }
            for line in lines
        ],
        "discounts": [
            {"kind": d.kind, "value": d.value, "amount": d.amount, "reason": d.reason} for d in discounts
        ],
        "tax_lines": [
            {"tax_class": t.tax_class, "rate": t.rate, "taxable": t.taxable, "tax": t.tax} for t in tax_lines
        ],
        "tenders": [
            {
                "id": t.id,
                "kind": t.kind,
                "amount": t.amount,
                "tendered": t.tendered,
                "change": t.change,
                "reference": t.reference,
                "approved": t.approved,
                "points": t.points,
            }
            for t in tenders
        ],
    }
