"""The till's click-and-collect API: the orders ready for collection here, and handing one over.

Thin views over ``store_node.orders`` (the terminal's collection screen calls the same services).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from retail.api_errors import NotFound
from store_node.checkout.api.auth import TerminalApi
from store_node.orders import selectors, services

MONEY = {"max_digits": 12, "decimal_places": 2}


class PickupOrderOutput(serializers.Serializer):
    class LineSerializer(serializers.Serializer):
        sku = serializers.CharField()
        description = serializers.CharField()
        quantity = serializers.DecimalField(max_digits=12, decimal_places=3)
        picked = serializers.DecimalField(max_digits=12, decimal_places=3)

        class Meta:
            ref_name = "CheckoutPickupLine"

    id = serializers.UUIDField()
    number = serializers.CharField()
    status = serializers.CharField()
    prepaid = serializers.BooleanField()
    customer_name = serializers.CharField()
    total = serializers.DecimalField(**MONEY)
    sale_id = serializers.UUIDField(allow_null=True, help_text="The till sale paying a not prepaid order")
    lines = LineSerializer(many=True)

    class Meta:
        ref_name = "CheckoutPickupOrder"


class OrdersReadyApi(TerminalApi):
    @extend_schema(responses=PickupOrderOutput(many=True))
    def get(self, request):
        return Response(PickupOrderOutput(selectors.orders_ready(), many=True).data)


class OrderCollectApi(TerminalApi):
    """Hand a ready order over. A not prepaid order first opens a sale on this terminal with the
    order's lines (``status`` stays ``ready`` and ``sale_id`` names it); pay that sale, then collect
    again to mark the order collected."""

    @extend_schema(request=None, responses=PickupOrderOutput)
    def post(self, request, order_id):
        if selectors.order_detail(order_id=order_id) is None:
            raise NotFound("no such order at this store", code="order_not_found")
        services.order_collect(order_id=order_id, terminal=self.terminal, cashier=self.cashier)
        return Response(PickupOrderOutput(selectors.order_detail(order_id=order_id)).data)
