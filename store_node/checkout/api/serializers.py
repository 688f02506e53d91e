"""Serializers shared by several checkout views: the sale as the till shows it, and approvals."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from retail.api_render import PlainData
from store_node.checkout.selectors import sale_detail


class ApprovalSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    pin = serializers.CharField(max_length=32, trim_whitespace=False)


class LineOutput(serializers.Serializer):
    id = serializers.UUIDField()
    position = serializers.IntegerField()
    product_id = serializers.UUIDField()
    sku = serializers.CharField()
    description = serializers.CharField()
    barcode = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    discount_kind = serializers.CharField()
    discount_value = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    line_discount = serializers.DecimalField(max_digits=12, decimal_places=2)
    sale_discount_share = serializers.DecimalField(max_digits=12, decimal_places=2)
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2)
    tax_class = serializers.CharField()
    tax_rate = serializers.DecimalField(max_digits=6, decimal_places=4)
    voided = serializers.BooleanField()
    price_overridden = serializers.SerializerMethodField()

    def get_price_overridden(self, line) -> bool:
        return line.price_overridden_by_id is not None


class TenderOutput(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    tendered = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    change = serializers.DecimalField(max_digits=12, decimal_places=2)
    reference = serializers.CharField()
    approved = serializers.BooleanField()
    points = serializers.IntegerField()


class MemberBrief(serializers.Serializer):
    id = serializers.UUIDField()
    number = serializers.CharField()
    name = serializers.CharField()
    points_balance = serializers.IntegerField()


class SaleOutput(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    status = serializers.CharField()
    receipt_number = serializers.CharField(allow_null=True)
    terminal_id = serializers.UUIDField()
    member = MemberBrief(allow_null=True)
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2)
    discount_total = serializers.DecimalField(max_digits=12, decimal_places=2)
    tax_total = serializers.DecimalField(max_digits=12, decimal_places=2)
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    cash_rounding = serializers.DecimalField(max_digits=12, decimal_places=2)
    points_earned = serializers.IntegerField()
    change = serializers.DecimalField(max_digits=12, decimal_places=2)
    lines = LineOutput(many=True)
    tenders = TenderOutput(many=True)


def _d(value) -> str | None:
    return None if value is None else f"{value}"


def _line_json(line) -> dict:
    return {
        "id": str(line.id),
        "position": line.position,
        "product_id": str(line.product_id),
        "sku": line.sku,
        "description": line.description,
        "barcode": line.barcode,
        "quantity": f"{line.quantity:.3f}",
        "unit_price": f"{line.unit_price:.2f}",
        "discount_kind": line.discount_kind,
        "discount_value": None if line.discount_value is None else f"{line.discount_value:.2f}",
        "line_discount": f"{line.line_discount:.2f}",
        "sale_discount_share": f"{line.sale_discount_share:.2f}",
        "line_total": f"{line.line_total:.2f}",
        "tax_class": line.tax_class,
        "tax_rate": f"{line.tax_rate:.4f}",
        "voided": line.voided,
        "price_overridden": line.price_overridden_by_id is not None,
    }


def _tender_json(t) -> dict:
    return {
        "id": str(t.id),
        "kind": t.kind,
        "amount": f"{t.amount:.2f}",
        "tendered": None if t.tendered is None else f"{t.tendered:.2f}",
        "change": f"{t.change:.2f}",
        "reference": t.reference,
        "approved": t.approved,
        "points": t.points,
    }


def sale_json(sale, lines, tenders) -> dict:
    """``SaleOutput``'s shape rendered by hand: a 50-line sale is rendered after every scan, and
    DRF's field-by-field serialisation would cost more than the scan itself. A test keeps the two
    equal. Only strings, ints, booleans and None: ``PlainData``, rendered by orjson."""
    member = sale.member
    return PlainData(
        {
            "id": str(sale.id),
            "kind": sale.kind,
            "status": sale.status,
            "receipt_number": sale.receipt_number,
            "terminal_id": str(sale.terminal_id),
            "member": None
            if member is None
            else {
                "id": str(member.id),
                "number": member.number,
                "name": member.name,
                "points_balance": member.points_balance,
            },
            "subtotal": f"{sale.subtotal:.2f}",
            "discount_total": f"{sale.discount_total:.2f}",
            "tax_total": f"{sale.tax_total:.2f}",
            "total": f"{sale.total:.2f}",
            "cash_rounding": f"{sale.cash_rounding:.2f}",
            "points_earned": sale.points_earned,
            "change": f"{sum((t.change for t in tenders), Decimal('0.00')):.2f}",
            "lines": [_line_json(line) for line in lines],
            "tenders": [_tender_json(t) for t in tenders],
        }
    )


def sale_data(sale_id) -> dict:
    sale, lines, tenders = sale_detail(sale_id=sale_id)
    return sale_json(sale, lines, tenders)
