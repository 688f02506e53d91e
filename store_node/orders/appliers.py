"""Appliers of head office's order events at this store (registered in ``StoreOrdersConfig.ready``),
and the loader of the open orders a snapshot carries.

``order.placed`` creates this store's copy once (re-applying changes nothing) and answers with this
store's ``order.status_changed`` ``routed``, so head office learns the order has reached the store.
That answer is this store's own fact (it now holds the order), so unlike other appliers this one
appends an event, in the pull's transaction.

An order's status only moves forward here (``routed`` < ``picking`` < ``ready`` < ``collected``;
``cancelled`` from head office closes an open order): a status already passed, from a feed page
that overlaps a snapshot or from head office's admin, changes nothing.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from retail.catalog.models import Product
from retail.replication.errors import INVALID_PAYLOAD, MISSING_REFERENCE, NOT_OWNER, ApplyRefused
from retail.replication.wire import CLOUD_ORIGIN, Envelope
from retail.stores.models import Store
from store_node.orders.models import PickupLine, PickupOrder, PickupStatus
from store_node.orders.services import order_arrived_announce, order_status_record

_RANK = {PickupStatus.ROUTED: 0, PickupStatus.PICKING: 1, PickupStatus.READY: 2, PickupStatus.COLLECTED: 3}
_CLOSED = (PickupStatus.COLLECTED, PickupStatus.CANCELLED)


def _dec(raw) -> Decimal:
    if not isinstance(raw, str):
        raise ApplyRefused(INVALID_PAYLOAD, f"expected a decimal string, got {raw!r}")
    return Decimal(raw)


def _moves_forward(current: str, status: str) -> bool:
    """Whether this store's copy at ``current`` follows head office to ``status``."""
    if current in _CLOSED or status not in PickupStatus.values:
        return False
    return status == PickupStatus.CANCELLED or _RANK[status] > _RANK[current]


def order_copy_create(p: dict, *, status: str = PickupStatus.ROUTED) -> PickupOrder:
    """This store's copy of an order from its ``order.placed`` payload (checked), at ``status``.

    A copy that is ``ready`` already was picked (at this store, before its database was lost): its
    lines are created picked.
    """
    if not Store.objects.filter(pk=p["store_id"]).exists():
        raise ApplyRefused(MISSING_REFERENCE, f"store {p['store_id']} does not exist here")
    product_ids = {line["product_id"] for line in p["lines"]}
    known = {str(pk) for pk in Product.objects.filter(pk__in=product_ids).values_list("pk", flat=True)}
    if missing := product_ids - known:
        raise ApplyRefused(MISSING_REFERENCE, f"products {sorted(missing)} do not exist here")
    placed_at = parse_datetime(p["placed_at"])
    order = PickupOrder.objects.create(
        id=p["id"],
        number=p["number"],
        store_id=p["store_id"],
        status=status,
        member_id=p.get("member_id"),
        prepaid=bool(p.get("prepaid")),
        customer_name=p.get("customer_name") or "",
        subtotal=_dec(p["subtotal"]),
        tax_total=_dec(p["tax_total"]),
        total=_dec(p["total"]),
        placed_at=placed_at,
        updated_at=placed_at,
    )
    picked = status in (PickupStatus.READY, PickupStatus.COLLECTED)
    PickupLine.objects.bulk_create(
        [
            PickupLine(
                order=order,
                position=int(line["position"]),
                product_id=line["product_id"],
                sku=line["sku"],
                description=line["description"],
                quantity=_dec(line["quantity"]),
                picked=_dec(line["quantity"]) if picked else 0,
                unit_price=_dec(line["unit_price"]),
                line_total=_dec(line["line_total"]),
            )
            for line in p["lines"]
        ]
    )
    return order


def order_placed_apply(env: Envelope, ctx) -> None:
    if env.origin != CLOUD_ORIGIN:
        raise ApplyRefused(NOT_OWNER, f"order.placed is head office's; {env.origin} may not write it")
    p = env.payload
    if PickupOrder.objects.filter(pk=p["id"]).exists():
        return
    order = order_copy_create(p)
    order_status_record(order=order, status=PickupStatus.ROUTED, note="received at the store")
    order_arrived_announce(order=order)


def order_status_changed_apply(env: Envelope, ctx) -> None:
    """Head office moved one of our orders (a cancellation, an admin's correction): follow it forward."""
    p = env.payload
    order = PickupOrder.objects.filter(pk=p["id"]).first()
    if order is None:
        return  # an order that never reached us (placed before this store enrolled)
    if not _moves_forward(order.status, p["status"]):
        return  # placed, shipped …, or a status this copy has passed: nothing to follow
    at = parse_datetime(p["at"]) if isinstance(p.get("at"), str) else order.updated_at
    PickupOrder.objects.filter(pk=order.pk).update(status=p["status"], updated_at=at)


class OrderSnapshotTable:
    """Loads a snapshot's ``order`` rows: head office's open pickup orders for this store, each its
    ``order.placed`` payload and current ``status`` (``placed``, ``routed``, ``picking``, ``ready``).

    An order this store does not hold is created once, by id; one head office has not yet heard the
    store answer for (``placed``) is answered ``routed`` as ``order.placed`` would be, so a store that
    loads a snapshot after an order was routed to it has the order to pick. An order it holds only
    moves forward (never back to a status it has passed). An open order of ours that head office no
    longer lists as open was closed there while this store could not read the feed (a cancellation
    pruned before the store pulled it): it is closed here as cancelled.
    """

    def __init__(self, *, cursor: int):
        self.cursor = cursor
        self.seen: set[str] = set()

    def load(self, rows: list[dict]) -> None:
        held = PickupOrder.objects.in_bulk([row["id"] for row in rows])
        held = {str(pk): order for pk, order in held.items()}
        for row in rows:
            self.seen.add(str(row["id"]))
            status = row.get("status")
            order = held.get(str(row["id"]))
            if order is None:
                if status not in ("placed", *_RANK):
                    continue
                try:
                    with transaction.atomic():
                        order = order_copy_create(
                            row, status=status if status in _RANK else PickupStatus.ROUTED
                        )
                except ApplyRefused:
                    continue  # names a product this snapshot did not hold: the feed brings it, or nothing
                if status == "placed":
                    order_status_record(order=order, status=PickupStatus.ROUTED, note="received at the store")
                order_arrived_announce(order=order)
            elif status in PickupStatus.values and _moves_forward(order.status, status):
                PickupOrder.objects.filter(pk=order.pk).update(status=status, updated_at=timezone.now())

    def finish(self, *, listed: bool) -> None:
        if not listed:
            return  # a cloud that does not send orders: what we hold is all we know
        open_here = PickupOrder.objects.exclude(status__in=_CLOSED).values_list("pk", flat=True)
        gone = [pk for pk in open_here if str(pk) not in self.seen]
        PickupOrder.objects.filter(pk__in=gone).update(
            status=PickupStatus.CANCELLED, updated_at=timezone.now()
        )
