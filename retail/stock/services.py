"""Stock writes. Invariant: every StockLevel.on_hand equals the sum of its StockMovement quantities."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from retail.outbox.services import event_append, node_origin
from retail.stock.models import MovementKind, StockLevel, StockMovement

# The sign a movement of each kind must have; count adjustments go either way.
_SIGN = {
    MovementKind.SALE: -1,
    MovementKind.TRANSFER_OUT: -1,
    MovementKind.WRITE_OFF: -1,
    MovementKind.RETURN: 1,
    MovementKind.RECEIPT: 1,
    MovementKind.TRANSFER_IN: 1,
}


class StockError(ValueError):
    pass


def stock_movement_record(
    *,
    store_id,
    product_id,
    kind: str,
    quantity: Decimal,
    reference: str = "",
    note: str = "",
    origin: str,
    created_at=None,
    movement_id=None,
) -> StockMovement:
    """Write one movement and move the projection with it, without an event (sync applies use this)."""
    if not isinstance(quantity, Decimal):
        raise TypeError("stock quantities are Decimals")
    sign = _SIGN.get(kind)
    if sign is not None and quantity * sign < 0:
        raise StockError(
            f"a {kind} movement must be {'positive' if sign > 0 else 'negative'}, got {quantity}"
        )
    fields = dict(
        store_id=store_id,
        product_id=product_id,
        kind=kind,
        quantity=quantity,
        reference=reference,
        note=note,
        origin=origin,
        created_at=created_at or timezone.now(),
    )
    if movement_id is not None:
        fields["id"] = movement_id
    with transaction.atomic():
        movement = StockMovement.objects.create(**fields)
        _level_add(store_id, product_id, quantity)
    return movement


def _level_add(store_id, product_id, quantity: Decimal) -> None:
    # Read, add in Python, write back: SQL arithmetic on a DecimalField is floating point on SQLite
    # (retail/dbmath.py). The row is locked meanwhile: select_for_update on PostgreSQL, the
    # IMMEDIATE transaction's write lock on SQLite.
    level = (
        StockLevel.objects.select_for_update()
        .filter(store_id=store_id, product_id=product_id)
        .only("pk", "on_hand")
        .first()
    )
    if level is None:
        # First movement of this product here: create the row (losing a race is fine), then add.
        StockLevel.objects.bulk_create(
            [StockLevel(store_id=store_id, product_id=product_id, on_hand=0)], ignore_conflicts=True
        )
        level = (
            StockLevel.objects.select_for_update()
            .only("pk", "on_hand")
            .get(store_id=store_id, product_id=product_id)
        )
    StockLevel.objects.filter(pk=level.pk).update(on_hand=level.on_hand + quantity, updated_at=timezone.now())


def movement_payload(movement: StockMovement) -> dict:
    return {
        "id": movement.id,
        "store_id": movement.store_id,
        "product_id": movement.product_id,
        "kind": movement.kind,
        "quantity": movement.quantity,
        "reference": movement.reference,
        "note": movement.note,
        "created_at": movement.created_at,
    }


def stock_move(
    *, store_id, product_id, kind: str, quantity: Decimal, reference: str = "", note: str = ""
) -> StockMovement:
    """Record a local stock movement and its ``stock.moved`` event in one transaction."""
    with transaction.atomic():
        movement = stock_movement_record(
            store_id=store_id,
            product_id=product_id,
            kind=kind,
            quantity=quantity,
            reference=reference,
            note=note,
            origin=node_origin(),
        )
        event_append(type="stock.moved", payload=movement_payload(movement))
    return movement


def stock_count(
    *, store_id, product_id, counted: Decimal, reference: str = "", note: str = ""
) -> StockMovement | None:
    """Record a count as its difference from the book at the time of counting.

    Sales rung while the count was offline still count: only the difference moves stock, so the
    count and the concurrent sales both survive a later merge (docs/sync-protocol.md).
    """
    with transaction.atomic():
        book = stock_on_hand(store_id=store_id, product_id=product_id)
        difference = counted - book
        movement = None
        if difference:
            movement = stock_movement_record(
                store_id=store_id,
                product_id=product_id,
                kind=MovementKind.COUNT,
                quantity=difference,
                reference=reference,
                note=note,
                origin=node_origin(),
            )
        event_append(
            type="stock.counted",
            payload={
                "movement_id": movement.id if movement else None,
                "store_id": store_id,
                "product_id": product_id,
                "counted": counted,
                "book": book,
                "difference": difference,
                "reference": reference,
            },
        )
    return movement


def stock_on_hand(*, store_id, product_id) -> Decimal:
    level = StockLevel.objects.filter(store_id=store_id, product_id=product_id).values_list(
        "on_hand", flat=True
    )
    return next(iter(level), Decimal("0"))
