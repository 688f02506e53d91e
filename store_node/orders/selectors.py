"""Reads of this store's pickup orders (two queries per list, however many orders)."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q

from store_node.orders.models import OPEN_FOR_PICKING, PickupLine, PickupOrder, PickupStatus


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
