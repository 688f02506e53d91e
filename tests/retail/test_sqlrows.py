"""The fixed-SQL helpers write and read rows exactly as the ORM does."""

from decimal import Decimal

import pytest
from django.utils import timezone

from retail.outbox.models import Event
from retail.sqlrows import rows_insert
from retail.stock.models import StockMovement
from tests.factories import make_product, make_store

pytestmark = pytest.mark.django_db


def fields(obj, skip=("id",)):
    return [
        (f.attname, getattr(obj, f.attname)) for f in type(obj)._meta.concrete_fields if f.attname not in skip
    ]


def test_rows_inserted_read_back_as_the_orms_own_inserts():
    store, product = make_store(), make_product()
    now = timezone.now()

    def movement(quantity):
        return StockMovement(
            store_id=store.id,
            product_id=product.id,
            kind="sale",
            quantity=quantity,
            origin="S01",
            created_at=now,
        )

    # given the same movements written by the ORM and by rows_insert (one, then several at once)
    orm = [
        StockMovement.objects.create(**{k: v for k, v in fields(movement(Decimal(q)))})
        for q in ("-1", "-0.255")
    ]
    fast = rows_insert([movement(Decimal("-1"))]) + rows_insert(
        [movement(Decimal("-0.255")), movement(Decimal("-2"))]
    )
    # then they are saved, and read back field for field (types included) as the ORM's are
    assert all(not m._state.adding for m in fast)
    read = {m.id: m for m in StockMovement.objects.filter(pk__in=[m.pk for m in orm + fast])}
    assert [fields(read[m.id]) for m in fast[:2]] == [fields(read[m.id]) for m in orm]
    assert [type(v) for _, v in fields(read[fast[1].id])] == [type(v) for _, v in fields(read[orm[1].id])]
    assert read[fast[2].id].quantity == Decimal("-2.000")


def test_a_json_payload_and_an_auto_now_add_time_are_prepared_as_the_orm_prepares_them():
    payload = {"total": "12.30", "lines": [{"sku": "100001", "quantity": "1.000"}], "note": None}
    # when an event is written by rows_insert, then created_at is set as auto_now_add sets it
    (event,) = rows_insert([Event(origin="T", seq=1, hlc=5, type="sale.completed", payload=payload)])
    assert event.created_at is not None
    # and it reads back equal to what it was given
    back = Event.objects.get(pk=event.pk)
    assert (back.payload, back.seq, back.schema, back.created_at) == (payload, 1, 1, event.created_at)


def test_rows_the_database_numbers_get_their_primary_keys():
    from retail.stock.models import StockLevel

    store = make_store()
    products = [make_product(), make_product()]
    # when two stock levels (an AutoField primary key, updated_at auto_now) are written
    levels = rows_insert([StockLevel(store=store, product=p, on_hand=Decimal("3")) for p in products])
    # then each has the id the database gave it, and reads back as written
    assert [lv.pk for lv in levels] == list(StockLevel.objects.order_by("pk").values_list("pk", flat=True))
    back = [StockLevel.objects.get(pk=lv.pk) for lv in levels]
    assert [(b.product_id, b.on_hand, b.updated_at) for b in back] == [
        (lv.product_id, Decimal("3.000"), lv.updated_at) for lv in levels
    ]


def test_rows_read_build_the_instance_from_db_builds_and_listeners_still_hear_of_them():
    from django.db import connection
    from django.db.models.signals import post_init

    from retail.sqlrows import columns, joined_rows

    store = make_store()
    movement = rows_insert(
        [
            StockMovement(
                store_id=store.id,
                product_id=make_product().id,
                kind="sale",
                quantity=Decimal("-1"),
                origin="S01",
                created_at=timezone.now(),
            )
        ]
    )[0]
    table = connection.ops.quote_name(StockMovement._meta.db_table)
    sql = f"SELECT {columns([(StockMovement, 'm')])} FROM {table} m WHERE m.id = %s"
    params = [StockMovement._meta.pk.get_db_prep_value(movement.id, connection)]
    orm = StockMovement.objects.get(pk=movement.pk)
    # when read without a post_init listener, then it is the ORM's instance, state included
    ((fast,),) = joined_rows(sql, params, [(StockMovement, "m")])
    assert fields(fast, skip=()) == fields(orm, skip=())
    assert (fast._state.adding, fast._state.db, fast.store.code) == (False, "default", store.code)
    # and with one, the listener hears of the instance as it does for the ORM's reads
    heard = []

    def listener(sender, instance, **kwargs):
        heard.append(instance)

    post_init.connect(listener, sender=StockMovement)
    try:
        ((again,),) = joined_rows(sql, params, [(StockMovement, "m")])
    finally:
        post_init.disconnect(listener, sender=StockMovement)
    assert heard == [again] and fields(again, skip=()) == fields(orm, skip=())


def test_rows_of_one_read_that_repeat_values_read_as_the_orm_reads_them_and_share_nothing_mutable():
    from django.db import connection

    from retail.sqlrows import columns, joined_rows

    # given three events with the same payload, and movements with repeated and zero quantities
    payload = {"total": "1.00", "lines": []}
    rows_insert([Event(origin="R", seq=n, hlc=n, type="sale.completed", payload=payload) for n in (1, 2, 3)])
    store, product = make_store(), make_product()
    for q in ("-1", "-1", "0", "-0.500", "0"):
        rows_insert(
            [
                StockMovement(
                    store_id=store.id,
                    product_id=product.id,
                    kind="count",
                    quantity=Decimal(q),
                    origin="S01",
                    created_at=timezone.now(),
                )
            ]
        )
    q = connection.ops.quote_name
    events = joined_rows(
        f"SELECT {columns([(Event, 'e')])} FROM {q(Event._meta.db_table)} e WHERE e.origin = 'R' ORDER BY e.seq",
        [],
        [(Event, "e")],
    )
    moves = joined_rows(
        f"SELECT {columns([(StockMovement, 'm')])} FROM {q(StockMovement._meta.db_table)} m ORDER BY m.id",
        [],
        [(StockMovement, "m")],
    )
    # then each equals the ORM's row, types included
    orm_events = list(Event.objects.filter(origin="R").order_by("seq"))
    orm_moves = list(StockMovement.objects.order_by("id"))
    assert [fields(e, skip=()) for (e,) in events] == [fields(e, skip=()) for e in orm_events]
    assert [fields(m, skip=()) for (m,) in moves] == [fields(m, skip=()) for m in orm_moves]
    assert [str(m.quantity) for (m,) in moves] == ["-1.000", "-1.000", "0.000", "-0.500", "0.000"]
    # and a payload (a dict) is each row's own: changing one changes no other
    events[0][0].payload["total"] = "9.99"
    assert [e.payload["total"] for (e,) in events] == ["9.99", "1.00", "1.00"]


def test_conflicting_rows_are_skipped_when_asked_as_bulk_create_skips_them():
    from retail.stock.models import StockLevel

    store, product, other = make_store(), make_product(), make_product()
    rows_insert([StockLevel(store=store, product=product, on_hand=Decimal("2"))])
    # when the same (store, product) and a new one are inserted, ignoring conflicts
    again = rows_insert(
        [StockLevel(store=store, product=p, on_hand=Decimal("5")) for p in (product, other)],
        ignore_conflicts=True,
    )
    # then the existing row is kept as it was and only the new one is written (no keys, as bulk_create)
    levels = {lv.product_id: lv.on_hand for lv in StockLevel.objects.filter(store=store)}
    assert levels == {product.id: Decimal("2.000"), other.id: Decimal("5.000")}
    assert [lv.pk for lv in again] == [None, None]
