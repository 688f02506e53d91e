"""Appliers of head office's order events at this store (registered in ``StoreOrdersConfig.ready``).

``order.placed`` creates this store's copy once (re-applying changes nothing) and answers with this
store's ``order.status_changed`` ``routed``, so head office learns the order has reached the store.
That answer is this store's own fact (it now holds the order), so unlike other appliers this one
appends an event, in the pull's transaction. A store that loads a snapshot gets the ``order.placed``
of its open pickup orders as the snapshot's event rows and applies them here, as if pulled.

A copy's status only moves forward here (``routed`` < ``picking`` < ``ready`` < ``collected``;
``cancelled`` from head office closes an open copy): head office's status for an order the copy has
already passed (a feed page overlapping a snapshot, an admin's late correction) changes nothing.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.dateparse import parse_datetime

from retail.catalog.models import Product
from retail.replication.errors import INVALID_PAYLOAD, MISSING_REFERENCE, NOT_OWNER, ApplyRefused
from retail.replication.wire import CLOUD_ORIGIN, Envelope
from retail.stores.models import Store
from store_node.orders.models import PickupLine, PickupOrder, PickupStatus
from store_node.orders.services import order_announce, order_status_record

_RANK = {PickupStatus.ROUTED: 0, PickupStatus.PICKING: 1, PickupStatus.READY: 2, PickupStatus.COLLECTED: 3}
_CLOSED = (PickupStatus.COLLECTED, PickupStatus.CANCELLED)


def _moves_forward(current: str, status: str) -> bool:
    """Whether this store's copy at ``current`` follows head office to ``status``."""
    if current in _CLOSED or status not in PickupStatus.values:
        return False
    return status == PickupStatus.CANCELLED or _RANK[status] > _RANK[current]


def _dec(raw) -> Decimal:
    if not isinstance(raw, str):
        raise ApplyRefused(INVALID_PAYLOAD, f"expected a decimal string, got {raw!r}")
    return Decimal(raw)


def order_placed_apply(env: Envelope, ctx) -> None:
    if env.origin != CLOUD_ORIGIN:
        raise ApplyRefused(NOT_OWNER, f"order.placed is head office's; {env.origin} may not write it")
    p = env.payload
    if PickupOrder.objects.filter(pk=p["id"]).exists():
        return
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
        member_id=p.get("member_id"),
        prepaid=bool(p.get("prepaid")),
        customer_name=p.get("customer_name") or "",
        subtotal=_dec(p["subtotal"]),
        tax_total=_dec(p["tax_total"]),
        total=_dec(p["total"]),
        placed_at=placed_at,
        updated_at=placed_at,
    )
    PickupLine.objects.bulk_create(
        [
            PickupLine(
                order=order,
                position=int(line["position"]),
                product_id=line["product_id"],
                sku=line["sku"],
                description=line["description"],
                quantity=_dec(line["quantity"]),
                unit_price=_dec(line["unit_price"]),
                line_total=_dec(line["line_total"]),
            )
            for line in p["lines"]
        ]
    )
    order_status_record(order=order, status=PickupStatus.ROUTED, note="received at the store")


def order_status_changed_apply(env: Envelope, ctx) -> None:
    """Head office moved one of our orders (a cancellation, an admin's correction): follow it forward."""
    p = env.payload
    status = p["status"]
    if status not in PickupStatus.values:
        return  # placed, shipped …: nothing this store's copy tracks
    order = PickupOrder.objects.filter(pk=p["id"]).first()
    if order is None:
        return  # an order that never reached us (placed before this store enrolled)
    if not _moves_forward(order.status, status):
        return  # a status this copy has passed, or a copy already closed
    at = parse_datetime(p["at"]) if isinstance(p.get("at"), str) else order.updated_at
    PickupOrder.objects.filter(pk=order.pk).update(status=status, updated_at=at)
    order.status = status
    order_announce(order=order)  # a cancelled order leaves the terminals' badge
