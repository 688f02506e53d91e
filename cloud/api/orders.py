"""Online orders: placing them (priced by ``retail.pricing``) and moving them through their statuses.

Routing an order to its pickup store through sync is not built yet (docs/api.md): a pickup order
stays ``placed`` ("waiting for the store") until head office or, later, the store moves it on.
Its quantities are held at the pickup store while it is open, and availability subtracts them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from cloud.api.models import (
    OPEN_STATUSES,
    ApiKey,
    Fulfilment,
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
)
from retail.api_errors import DomainError, Invalid, NotFound
from retail.catalog.models import Product, Unit
from retail.catalog.selectors import price_for, tax_rate_for
from retail.members.models import Member
from retail.pricing import Line, price_basket
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


def order_status_set(*, order: Order, status: str, note: str = "") -> Order:
    """Move an order on; refused (409 ``status_refused``) unless ``TRANSITIONS`` allows it."""
    if status not in OrderStatus.values:
        raise Invalid(f"unknown status {status!r}", code="status_unknown")
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        allowed = TRANSITIONS[order.status]
        wrong_kind = (order.fulfilment == Fulfilment.DELIVERY and status in PICKUP_ONLY) or (
            order.fulfilment == Fulfilment.PICKUP and status in DELIVERY_ONLY
        )
        if status not in allowed or wrong_kind:
            raise DomainError(f"an order {order.status} cannot become {status}", code="status_refused")
        now = timezone.now()
        order.status, order.updated_at = status, now
        order.save(update_fields=["status", "updated_at"])
        OrderStatusChange.objects.create(order=order, status=status, at=now, note=note)
    return order
