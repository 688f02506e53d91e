"""Reads of this store's pickup orders (two queries per list, however many orders)."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Prefetch, Q

from retail.dbmath import DecimalSum
from store_node.orders.models import OPEN_FOR_PICKING, PickupLine, PickupOrder, PickupStatus

# An order holds its goods at its store from routing until it is collected or cancelled.
HOLDING = (*OPEN_FOR_PICKING, PickupStatus.READY)


def orders_to_pick() -> list[PickupOrder]:
    lines = Prefetch("lines", queryset=PickupLine.objects.order_by("position"))
    return list(PickupOrder.objects.filter(status__in=OPEN_FOR_PICKING).prefetch_related(lines))


def orders_ready() -> list[PickupOrder]:
    lines = Prefetch("lines", queryset=PickupLine.objects.order_by("position"))
    return list(PickupOrder.objects.filter(status=PickupStatus.READY).prefetch_related(lines))


def orders_waiting(*, store_id) -> dict[str, int]:
    """How many of the store's orders wait for pickup: ``ready`` for collection and ``to_pick``
    (routed or being picked). One query: the terminal's order badge shows these."""
    waiting = (PickupStatus.READY, *OPEN_FOR_PICKING)
    return PickupOrder.objects.filter(store_id=store_id, status__in=waiting).aggregate(
        ready=Count("pk", filter=Q(status=PickupStatus.READY)),
        to_pick=Count("pk", filter=Q(status__in=OPEN_FOR_PICKING)),
    )


def order_detail(*, order_id) -> PickupOrder | None:
    lines = Prefetch("lines", queryset=PickupLine.objects.order_by("position"))
    return PickupOrder.objects.filter(pk=order_id).prefetch_related(lines).first()


def held_for_orders(*, store_id, product_id) -> Decimal:
    """What this store's open pickup orders hold of a product (ordered, not yet collected): the till
    still sells it (a sale is never refused for stock), staff see it as spoken for. One query."""
    return PickupLine.objects.filter(
        order__store_id=store_id, order__status__in=HOLDING, product_id=product_id
    ).aggregate(held=DecimalSum("quantity", places=3))["held"]
