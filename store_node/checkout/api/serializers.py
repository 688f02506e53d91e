"""Serializers shared by several checkout views: the sale as the till shows it, and approvals."""

from __future__ import annotations

from rest_framework import serializers

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


def sale_data(sale_id) -> dict:
    sale, lines, tenders = sale_detail(sale_id=sale_id)
    sale.lines_list, sale.tenders_list = lines, tenders
    data = {
        field: getattr(sale, field)
        for field in (
            "id",
            "kind",
            "status",
            "receipt_number",
            "terminal_id",
            "member",
            "subtotal",
            "discount_total",
            "tax_total",
            "total",
            "cash_rounding",
            "points_earned",
        )
    }
    data.update(lines=lines, tenders=tenders, change=sum((t.change for t in tenders), 0))
    return SaleOutput(data).data
