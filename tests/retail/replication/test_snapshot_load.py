"""Loading a snapshot (retail/replication/snapshot.py): the rows a cloud writes load back to the same
catalog, prices and stock at a store, each level with its opening movement, and a second load of
the same snapshot changes nothing."""

import json
from datetime import UTC, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retail.catalog.models import Barcode, Price, Product, TaxRate
from retail.replication.snapshot import SnapshotLoader, snapshot_rows
from retail.replication.wire import dumps
from retail.stock.models import StockLevel, StockMovement
from retail.stock.services import stock_move
from tests.factories import make_product, make_store

pytestmark = pytest.mark.django_db


def _held() -> dict:
    return {
        "products": sorted(
            Product.objects.values_list("id", "sku", "name", "unit", "tax_class_id", "active")
        ),
        "barcodes": sorted(Barcode.objects.values_list("code", "product_id")),
        "prices": sorted(
            Price.objects.values_list("product_id", "store_id", "amount", "effective_from"), key=str
        ),
        "rates": sorted(TaxRate.objects.values_list("tax_class_id", "rate", "effective_from")),
        "levels": sorted(StockLevel.objects.values_list("store_id", "product_id", "on_hand")),
    }


def _load(rows: list[dict], cursor: int) -> dict:
    loader = SnapshotLoader(cursor=cursor)
    for row in rows:
        loader.add(row)
    return loader.finish()


def test_a_snapshot_loads_back_to_what_it_was_made_of(settings):
    # given a cloud's catalog: tea (chain price and a price at S01), weighed apples, stock at two stores
    s01, s02 = make_store("S01"), make_store("S02")
    tea = make_product("2.50", sku="T1", name="Tea")
    apples = make_product("3.00", sku="A1", name="Apples", unit="kg", tax="RED", rate="0.07")
    Price.objects.create(
        product=tea, store=s01, amount=Decimal("2.29"), effective_from="2026-11-01T08:00:00Z"
    )
    stock_move(store_id=s01.id, product_id=tea.id, kind="receipt", quantity=Decimal("12"))
    stock_move(store_id=s02.id, product_id=apples.id, kind="receipt", quantity=Decimal("4.250"))
    rows = [json.loads(dumps(row)) for row in snapshot_rows(store_id=s01.id)]
    made_of = _held()

    # when a store that holds nothing of head office's loads it
    StockMovement.objects.all().delete()
    StockLevel.objects.all().delete()
    Price.objects.all().delete()
    Barcode.objects.all().delete()
    Product.objects.all().delete()
    TaxRate.objects.all().delete()
    counts = _load(rows, cursor=7)

    # then it holds the same rows, and each level is the sum of one opening count movement
    assert _held() == made_of
    assert (counts["product"], counts["barcode"], counts["price"], counts["stock_level"]) == (2, 2, 3, 2)
    assert sorted(
        StockMovement.objects.values_list("store_id", "product_id", "kind", "quantity", "reference")
    ) == sorted(
        [
            (s01.id, tea.id, "count", Decimal("12.000"), "snapshot@7"),
            (s02.id, apples.id, "count", Decimal("4.250"), "snapshot@7"),
        ]
    )


def test_loading_the_same_snapshot_again_changes_nothing_and_keeps_the_stores_own_levels():
    s01 = make_store("S01")
    tea = make_product("2.50", sku="T1", name="Tea")
    stock_move(store_id=s01.id, product_id=tea.id, kind="receipt", quantity=Decimal("5"))
    rows = [json.loads(dumps(row)) for row in snapshot_rows(store_id=s01.id)]
    _load(rows, cursor=3)
    held, movements = _held(), StockMovement.objects.count()

    # a renamed product in a later snapshot replaces the name; the store's own level stays its own
    for row in rows:
        if row["t"] == "product":
            row["name"] = "Green Tea"
    _load(rows, cursor=3)

    assert Product.objects.get(pk=tea.pk).name == "Green Tea"
    assert {k: v for k, v in _held().items() if k != "products"} == {
        k: v for k, v in held.items() if k != "products"
    }
    assert StockMovement.objects.count() == movements


@given(
    moment=st.datetimes(
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5))])
    ),
    amount=st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False),
    key=st.uuids(),
)
def test_the_fast_conversions_write_what_django_would(moment, amount, key):
    # each fast path must store exactly what the field itself would (SQLite compares times as text)
    from django.db import connections

    from retail.replication.snapshot import _converter

    db = connections["default"]
    cases = [
        (Price._meta.get_field("effective_from"), "effective_from", moment.isoformat(), moment),
        (Price._meta.get_field("amount"), "amount", str(amount), amount),
        (Price._meta.get_field("product"), "product_id", str(key), key),
        (Price._meta.get_field("id"), "id", str(key), key),
    ]
    for field, column, wire, value in cases:
        assert _converter(field, column, db)(wire) == field.get_db_prep_save(value, db), column


@given(name=st.text())
def test_opening_movement_ids_are_the_uuid5_they_always_were(name):
    import uuid

    from retail.replication.snapshot import _NS, _uuid5_hex

    assert _uuid5_hex(name) == uuid.uuid5(_NS, name).hex
