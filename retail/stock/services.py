"""Stock writes. Invariant: every StockLevel.on_hand equals the sum of its StockMovement quantities."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from retail.outbox.services import event_append, event_append_many, node_origin
from retail.sqlrows import columns, joined_rows, rows_insert
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
    _check(kind, quantity)
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


def _check(kind: str, quantity: Decimal) -> None:
    if not isinstance(quantity, Decimal):
        raise TypeError("stock quantities are Decimals")
    sign = _SIGN.get(kind)
    if sign is not None and quantity * sign < 0:
        raise StockError(
            f"a {kind} movement must be {'positive' if sign > 0 else 'negative'}, got {quantity}"
        )


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


@dataclass(frozen=True)
class Move:
    """One movement of ``stock_move_many``."""

    product_id: object
    kind: str
    quantity: Decimal
    reference: str = ""
    note: str = ""


def stock_move_many(
    *, store_id, moves: list[Move], events_before: list[tuple[str, dict]] = ()
) -> list[StockMovement]:
    """Record several local movements at one store (a sale's lines) and their ``stock.moved`` events.

    Equal to ``stock_move`` called once per move, in order, but set-based: one INSERT of the
    movements, one read of the levels (locked: ``select_for_update`` on PostgreSQL, the IMMEDIATE
    write lock on SQLite), one INSERT of the missing levels, one UPDATE of the levels (each moved
    by the sum of its movements, added in Python: SQL decimal arithmetic is floating point on
    SQLite) and one ``event_append_many``. Invariant: every ``StockLevel.on_hand`` equals the sum of
    its movements. Refuses the whole batch (nothing written) if any move has the wrong sign.

    ``events_before``: the caller's own ``(type, payload)`` events that precede these movements (a
    sale's ``sale.completed``), appended first in the same ``event_append_many``: the same events
    and order as an ``event_append`` of each before this call, one clock advance and INSERT fewer.
    """
    for move in moves:
        _check(move.kind, move.quantity)
    if not moves:
        if events_before:
            event_append_many(events=list(events_before))
        return []
    now, origin = timezone.now(), node_origin()
    with transaction.atomic():
        movements = rows_insert(
            [
                StockMovement(
                    store_id=store_id,
                    product_id=move.product_id,
                    kind=move.kind,
                    quantity=move.quantity,
                    reference=move.reference,
                    note=move.note,
                    origin=origin,
                    created_at=now,
                )
                for move in moves
            ]
        )
        delta: dict = {}
        for move in moves:
            delta[move.product_id] = delta.get(move.product_id, Decimal(0)) + move.quantity
        levels = _levels_locked(store_id, delta)
        missing = [pid for pid in delta if pid not in levels]
        if missing:  # first movements of these products here: create the rows (losing a race is fine)
            rows_insert(
                [StockLevel(store_id=store_id, product_id=pid, on_hand=0) for pid in missing],
                ignore_conflicts=True,
            )
            levels.update(_levels_locked(store_id, missing))
        for pid, level in levels.items():
            level.on_hand += delta[pid]
        _levels_write(levels.values(), now)
        event_append_many(events=[*events_before, *(("stock.moved", movement_payload(m)) for m in movements)])
    return movements


def _levels_write(levels, now) -> None:
    # One prepared UPDATE run per level (executemany): bulk_update's CASE WHEN … per row costs more
    # to compile than the updates cost to run. Values are adapted by the fields, so exact decimals.
    on_hand, updated_at = StockLevel._meta.get_field("on_hand"), StockLevel._meta.get_field("updated_at")
    q = connection.ops.quote_name
    sql = f"UPDATE {q(StockLevel._meta.db_table)} SET on_hand = %s, updated_at = %s WHERE id = %s"
    when = updated_at.get_db_prep_save(now, connection)
    with connection.cursor() as cursor:
        cursor.executemany(
            sql, [(on_hand.get_db_prep_save(level.on_hand, connection), when, level.pk) for level in levels]
        )


_LEVEL_COLUMNS = [(StockLevel, "l", ("id", "product_id", "on_hand"))]


@functools.lru_cache(maxsize=256)
def _levels_locked_sql(count: int) -> str:
    q = connection.ops.quote_name
    return (
        f"SELECT {columns(_LEVEL_COLUMNS)} FROM {q(StockLevel._meta.db_table)} l "
        f"WHERE l.{q(StockLevel._meta.get_field('store').column)} = %s "
        f"AND l.{q(StockLevel._meta.get_field('product').column)} IN ({', '.join(['%s'] * count)}) "
        f"ORDER BY l.{q('id')}" + (" FOR UPDATE" if connection.features.has_select_for_update else "")
    )


def _levels_locked(store_id, product_ids) -> dict:
    # What ``select_for_update().filter(store_id=…, product_id__in=…).only("pk", "product_id",
    # "on_hand").order_by("pk")`` sends (ordered: one lock order for every batch, for PostgreSQL's
    # row locks), as fixed SQL per batch size: the ORM took ~0.6 ms to build it on every sale.
    product_ids = list(product_ids)
    conn, product = connections[DEFAULT_DB_ALIAS], StockLevel._meta.get_field("product")
    params = [StockLevel._meta.get_field("store").get_db_prep_value(store_id, conn)]
    params += [product.get_db_prep_value(pid, conn) for pid in product_ids]
    levels = {}
    for (level,) in joined_rows(_levels_locked_sql(len(product_ids)), params, _LEVEL_COLUMNS):
        levels[level.product_id] = level
    return levels


def stock_count(
    *,
    store_id,
    product_id,
    counted: Decimal,
    reference: str = "",
    note: str = "",
    book: Decimal | None = None,
) -> StockMovement | None:
    """Record a count as its difference from the book at the time of counting.

    Sales rung while the count was offline still count: only the difference moves stock, so the
    count and the concurrent sales both survive a later merge (docs/sync-protocol.md). ``book`` is
    the book quantity when the shelf was counted, for a count posted some time after it was taken
    (a handheld's count sheet): a sale rung in between then still counts. Default: the book now.
    """
    with transaction.atomic():
        if book is None:
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
                "note": note,
            },
        )
    return movement


def stock_on_hand(*, store_id, product_id) -> Decimal:
    level = StockLevel.objects.filter(store_id=store_id, product_id=product_id).values_list(
        "on_hand", flat=True
    )
    return next(iter(level), Decimal("0"))
