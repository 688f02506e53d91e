"""Online orders: placing them (priced by ``retail.pricing``) and moving them through their statuses.

A pickup order travels to its store as ``order.placed`` (appended in the placing transaction, sent
to that store alone): it stays ``placed`` ("waiting for the store") until the store has pulled it
and answers ``routed``; the store's later ``order.status_changed`` events (picking, ready,
collected) come back through sync and move the order here (``order_status_changed_apply``).
Its quantities are held at the pickup store while it is open, and availability subtracts them.

An order handed over (``collected``, ``delivered``) is a sale of the online channel for the
dashboards (``online_sale_record``), except a pickup order not paid online: the till sale that paid
it is its sale, counted as the store's (docs/head-office.md, "Online sales").
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cloud.api.models import (
    HANDED_OVER,
    OPEN_STATUSES,
    ApiKey,
    Fulfilment,
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
)
from cloud.reporting.services import online_orders_rollup_record
from retail.api_errors import DomainError, Invalid, NotFound
from retail.catalog.models import Product, Unit
from retail.catalog.selectors import price_for, tax_rate_for
from retail.members.models import Member
from retail.outbox.services import event_append, node_origin
from retail.pricing import Line, price_basket
from retail.replication.errors import INVALID_PAYLOAD, NOT_OWNER, ApplyRefused
from retail.replication.wire import Envelope, envelope_of_event
from retail.stock.models import StockLevel
from retail.stores.models import Store

# Which status may follow which: anything open may be cancelled; pickups go through the store.
TRANSITIONS = {
    OrderStatus.PLACED: {OrderStatus.ROUTED, OrderStatus.PICKING, OrderStatus.SHIPPED, OrderStatus.CANCELLED},
    OrderStatus.ROUTED: {OrderStatus.PICKING, OrderStatus.CANCELLED},
    OrderStatus.PICKING: {OrderStatus.READY, OrderStatus.SHIPPED, OrderStatus.CANCELLED},
    OrderStatus.READY: {OrderStatus.COLLECTED, OrderStatus.CANCELLED},
    OrderStatus.SHIPPED: {OrderStatus.DELIVERED},
    OrderStatus.COLLECTED: set(),
    OrderStatus.DELIVERED: set(),
    OrderStatus.CANCELLED: set(),
}
PICKUP_ONLY = {OrderStatus.ROUTED, OrderStatus.READY, OrderStatus.COLLECTED}
DELIVERY_ONLY = {OrderStatus.SHIPPED, OrderStatus.DELIVERED}


@dataclass(frozen=True)
class OrderItem:
    sku: str
    quantity: Decimal


def reserved_at(*, store_id, product_ids: list) -> dict:
    """Quantities held by open pickup orders at a store, per product."""
    rows = (
        OrderLine.objects.filter(
            order__store_id=store_id, order__status__in=OPEN_STATUSES, product_id__in=product_ids
        )
        .values("product_id")
        .annotate(q=Sum("quantity"))
        .values_list("product_id", "q")
    )
    return dict(rows)


def order_place(
    *,
    api_key: ApiKey,
    reference: str,
    fulfilment: str,
    items: list[OrderItem],
    store_code: str = "",
    member_number: str = "",
    prepaid: bool = False,
    customer_name: str = "",
    address: str = "",
    postcode: str = "",
    city: str = "",
) -> tuple[Order, bool]:
    """Place an order once per (key, reference); returns it and whether it is new.

    A pickup order needs an active store with every line available there (on hand minus what
    open orders hold); it is refused with 409 ``out_of_stock`` otherwise. A delivery needs an
    address. Prices are the pickup store's (or chain-wide for delivery) at the time of ordering.
    """
    existing = Order.objects.filter(api_key=api_key, reference=reference).first()
    if existing is not None:
        return existing, False
    if fulfilment not in Fulfilment.values:
        raise Invalid("fulfilment is delivery or pickup", code="fulfilment")
    if not items:
        raise Invalid("an order needs at least one line", code="order_empty")
    store = None
    if fulfilment == Fulfilment.PICKUP:
        store = Store.objects.filter(code=store_code, active=True).first()
        if store is None:
            raise Invalid(f"no active store {store_code!r} to pick up from", code="store_unknown")
    elif not (address and postcode and city):
        raise Invalid("a delivery needs address, postcode and city", code="address_required")
    member = None
    if member_number:
        member = Member.objects.filter(number=member_number, merged_into__isnull=True).first()
        if member is None:
            raise NotFound(f"no member {member_number!r}", code="member_not_found")
    products = {p.sku: p for p in Product.objects.filter(sku__in=[i.sku for i in items], active=True)}
    missing = sorted({i.sku for i in items} - set(products))
    if missing:
        raise Invalid(f"unknown products: {', '.join(missing)}", code="product_not_found")
    now = timezone.now()
    lines = []
    for item in items:
        product = products[item.sku]
        price = price_for(product_id=product.id, store_id=store.id if store else None, at=now)
        rate = tax_rate_for(tax_class=product.tax_class_id, at=now)
        if price is None or rate is None:
            raise DomainError(f"{item.sku} has no price or tax rate now", code="not_for_sale")
        try:
            lines.append(Line(price, item.quantity, rate, by_weight=product.unit == Unit.KG))
        except ValueError as error:
            raise Invalid(f"{item.sku}: {error}", code="quantity") from error
    basket = price_basket(lines, prices_include_tax=settings.PRICES_INCLUDE_TAX)
    try:
        with transaction.atomic():
            if store is not None:
                _reserve_or_refuse(store=store, items=items, products=products)
            order = Order.objects.create(
                number=f"W{now:%y%m%d}-{secrets.token_hex(3).upper()}",
                api_key=api_key,
                reference=reference,
                fulfilment=fulfilment,
                store=store,
                member=member,
                prepaid=prepaid,
                subtotal=basket.subtotal,
                tax_total=basket.tax_total,
                total=basket.total,
                customer_name=customer_name,
                address=address,
                postcode=postcode,
                city=city,
                created_at=now,
                updated_at=now,
            )
            OrderLine.objects.bulk_create(
                [
                    OrderLine(
                        order=order,
                        position=n,
                        product=products[item.sku],
                        sku=item.sku,
                        description=products[item.sku].name,
                        quantity=line.quantity,
                        unit_price=line.unit_price,
                        tax_rate=line.tax_rate,
                        line_total=result.total,
                    )
                    for n, (item, line, result) in enumerate(
                        zip(items, lines, basket.lines, strict=True), start=1
                    )
                ]
            )
            OrderStatusChange.objects.create(order=order, status=order.status, at=now, note="placed online")
            if store is not None:
                order.placed_event = event_append(type="order.placed", payload=_placed_payload(order))
                Order.objects.filter(pk=order.pk).update(placed_event=order.placed_event)
                transaction.on_commit(_nudge_stores)
    except IntegrityError:  # the same reference placed concurrently: answer with that order
        return Order.objects.get(api_key=api_key, reference=reference), False
    return order, True


def _reserve_or_refuse(*, store: Store, items: list[OrderItem], products: dict) -> None:
    ids = [products[i.sku].id for i in items]
    # Lock the store's levels of these products (PostgreSQL) so two orders cannot take the last unit.
    on_hand = dict(
        StockLevel.objects.select_for_update()
        .filter(store=store, product_id__in=ids)
        .values_list("product_id", "on_hand")
    )
    held = reserved_at(store_id=store.id, product_ids=ids)
    wanted: dict = {}
    for item in items:
        wanted[products[item.sku].id] = wanted.get(products[item.sku].id, Decimal(0)) + item.quantity
    short = [
        sku
        for sku, product in products.items()
        if product.id in wanted
        and wanted[product.id] > on_hand.get(product.id, Decimal(0)) - held.get(product.id, Decimal(0))
    ]
    if short:
        raise DomainError(
            f"not enough at {store.code}: {', '.join(sorted(short))}", code="out_of_stock", skus=sorted(short)
        )


def _placed_payload(order: Order) -> dict:
    return {
        "id": order.id,
        "number": order.number,
        "store_id": order.store_id,
        "fulfilment": order.fulfilment,
        "member_id": order.member_id,
        "prepaid": order.prepaid,
        "customer_name": order.customer_name,
        "placed_at": order.created_at,
        "subtotal": order.subtotal,
        "tax_total": order.tax_total,
        "total": order.total,
        "lines": [
            {
                "position": line.position,
                "product_id": line.product_id,
                "sku": line.sku,
                "description": line.description,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "line_total": line.line_total,
            }
            for line in order.lines.all()
        ],
    }


def orders_open_envelopes(store_id) -> Iterator[Envelope]:
    """The ``order.placed`` events of the store's open pickup orders, for its snapshot's ``event``
    rows (``retail.replication.snapshot.SNAPSHOT_EVENT_SOURCES``): a store that loads a snapshot
    after an order was routed to it (new, or past the feed's retention) still gets the order, and
    answers ``routed`` as from the feed. One query per 500 orders."""
    orders = (
        Order.objects.filter(
            store_id=store_id,
            fulfilment=Fulfilment.PICKUP,
            status__in=OPEN_STATUSES,
            placed_event__isnull=False,
        )
        .select_related("placed_event")
        .order_by("placed_event__seq")
    )
    for order in orders.iterator(chunk_size=500):
        yield envelope_of_event(order.placed_event)


def _nudge_stores() -> None:
    from cloud.sync.services import stores_nudge  # the sync app's nudge; imported late (app loading)

    stores_nudge()


def _refusal(order: Order, status: str) -> str | None:
    wrong_kind = (order.fulfilment == Fulfilment.DELIVERY and status in PICKUP_ONLY) or (
        order.fulfilment == Fulfilment.PICKUP and status in DELIVERY_ONLY
    )
    if status not in TRANSITIONS[order.status] or wrong_kind:
        return f"an order {order.status} cannot become {status}"
    return None


def _move(order: Order, status: str, note: str, at) -> None:
    """Move a locked order on (every move goes through here: the API, the admin, a store's event)."""
    order.status, order.updated_at = status, at
    order.save(update_fields=["status", "updated_at"])
    OrderStatusChange.objects.create(order=order, status=status, at=at, note=note)
    if status in HANDED_OVER:
        online_sale_record(order=order)


def online_sale_record(*, order: Order) -> bool:
    """Count an order just handed over as an online sale for the dashboards, once; returns whether it
    counted. A pickup order not prepaid does not: the customer paid it with a till sale, which the
    dashboards count as that store's sale when it syncs (counting the order too would count it twice).
    """
    if order.fulfilment == Fulfilment.PICKUP and not order.prepaid:
        return False
    return order.id in online_orders_rollup_record(orders=[order])


def order_status_set(*, order: Order, status: str, note: str = "") -> Order:
    """Move an order on; refused (409 ``status_refused``) unless ``TRANSITIONS`` allows it.

    A pickup order's change is announced as ``order.status_changed`` in the same transaction, so
    its store learns it (a cancellation stops the picking there).
    """
    if status not in OrderStatus.values:
        raise Invalid(f"unknown status {status!r}", code="status_unknown")
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if status == OrderStatus.COLLECTED and order.fulfilment == Fulfilment.PICKUP:
            # The goods leave the store's stock, and any balance is paid, at its till: only the
            # store's own "collected" (through sync) may say so.
            raise DomainError(
                "A pickup order is collected at its store's till, which takes the goods off its stock "
                "and any payment: the store's report moves it to collected.",
                code="collected_at_store",
            )
        refusal = _refusal(order, status)
        if refusal:
            raise DomainError(refusal, code="status_refused")
        now = timezone.now()
        _move(order, status, note, now)
        if order.store_id is not None:
            event_append(
                type="order.status_changed",
                payload={
                    "id": order.id,
                    "number": order.number,
                    "store_id": order.store_id,
                    "status": status,
                    "at": now,
                    "by": node_origin(),
                    "note": note,
                },
            )
            transaction.on_commit(_nudge_stores)
    return order


# The order in which a pickup moves on: a store's report of a status already passed changes nothing.
_PICKUP_RANK = {s: n for n, s in enumerate(["placed", "routed", "picking", "ready", "collected"])}


def order_status_changed_apply(env: Envelope, ctx) -> None:
    """Applier of a store's ``order.status_changed`` at the cloud (registered in ``OmniApiConfig``).

    Only the order's own store may move it; an order already at or past that status is left as it is
    (a late ``routed`` after head office moved it on); any other refused move is quarantined.
    """
    p = env.payload
    order = Order.objects.select_for_update().filter(pk=p["id"]).first()
    if order is None:
        raise ApplyRefused("missing_reference", f"order {p['id']} does not exist here")
    if ctx.origin_store_id is not None and order.store_id != ctx.origin_store_id:
        raise ApplyRefused(NOT_OWNER, f"order {order.number} is not this store's")
    status = p["status"]
    if status not in OrderStatus.values:
        raise ApplyRefused(INVALID_PAYLOAD, f"unknown status {status!r}")
    current, new = _PICKUP_RANK.get(order.status), _PICKUP_RANK.get(status)
    if status == order.status or (current is not None and new is not None and new < current):
        return
    refusal = _refusal(order, status)
    if refusal:
        raise ApplyRefused(INVALID_PAYLOAD, f"status_refused: {refusal}")
    at = parse_datetime(p["at"]) if isinstance(p.get("at"), str) else timezone.now()
    _move(order, status, f"by store {env.origin}" + (f": {p['note']}" if p.get("note") else ""), at)
