"""A new store's first snapshot fills empty tables with their indexes built after the rows
(retail/db/bulk_load.py): the store ends with the schema its migrations made, a name search that
finds what was loaded, and a failed load leaves the schema as it was."""

import json

import pytest
from django.db import connection, transaction

from retail.catalog.models import Barcode, Price, Product, TaxRate
from retail.db.bulk_load import IndexesDeferred
from retail.replication.snapshot import SnapshotLoader, snapshot_rows
from retail.replication.wire import dumps
from retail.stock.models import StockLevel, StockMovement
from store_node.checkout.selectors import product_search
from tests.factories import make_product, make_store

pytestmark = pytest.mark.django_db(transaction=True)


def _schema() -> set[tuple]:
    with connection.cursor() as c:
        c.execute("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type IN ('index', 'trigger')")
        return set(c.fetchall())


def _indexes_of(table: str) -> set[str]:
    with connection.cursor() as c:
        c.execute(
            "SELECT name FROM sqlite_master WHERE tbl_name = %s AND type = 'index' AND sql IS NOT NULL",
            [table],
        )
        return {name for (name,) in c.fetchall()}


def _snapshot_of_a_catalog() -> list[dict]:
    s01 = make_store("S01")
    for i in range(30):
        make_product("1.50", sku=f"SKU{i:03d}", name=f"Rooibos tea {i}" if i % 3 == 0 else f"Oat milk {i}")
    rows = [json.loads(dumps(row)) for row in snapshot_rows(store_id=s01.id)]
    for model in (StockMovement, StockLevel, Price, Barcode, Product, TaxRate):
        model.objects.all().delete()
    return rows


def _load(rows: list[dict], *, fail_after: int | None = None) -> None:
    loader = SnapshotLoader(cursor=3)
    for i, row in enumerate(rows):
        if fail_after is not None and i == fail_after:
            raise RuntimeError("the connection dropped")
        loader.add(row)
    loader.finish()


def test_a_first_load_ends_with_the_migrated_schema_and_a_search_that_finds_its_products():
    rows = _snapshot_of_a_catalog()
    migrated = _schema()
    assert not product_search(query="rooibos")  # the index holds nothing of what was deleted

    with transaction.atomic():
        _load(rows)

    assert _schema() == migrated
    found = {p["sku"] for p in product_search(query="rooibos")}
    assert found == {f"SKU{i:03d}" for i in range(0, 30, 3)}
    with connection.cursor() as c:
        c.execute("INSERT INTO checkout_product_fts(checkout_product_fts) VALUES ('integrity-check')")
        c.execute("PRAGMA integrity_check")
        assert c.fetchone() == ("ok",)
    # the trigger is back: a product made after the load is found too
    make_product("2.00", sku="NEW1", name="Rooibos chai")
    assert "NEW1" in {p["sku"] for p in product_search(query="chai")}


def test_a_load_that_fails_halfway_leaves_every_index_and_trigger():
    rows = _snapshot_of_a_catalog()
    migrated = _schema()
    first_price = next(i for i, row in enumerate(rows) if row["t"] == "price")

    with pytest.raises(RuntimeError), transaction.atomic():
        _load(rows, fail_after=first_price + 1)  # products loaded and their indexes deferred

    assert _schema() == migrated
    assert not Product.objects.exists()


def test_a_table_that_holds_rows_keeps_its_indexes_while_it_is_loaded():
    make_product("1.00", sku="HELD", name="Held")
    deferred = IndexesDeferred(connection)
    with transaction.atomic():
        assert deferred.defer(Product._meta.db_table) is False
        assert "product_name_idx" in _indexes_of(Product._meta.db_table)
        assert deferred.defer(StockLevel._meta.db_table) is True  # empty: deferred
        assert _indexes_of(StockLevel._meta.db_table) == set()
        deferred.restore()
    assert _indexes_of(StockLevel._meta.db_table) == {"stock_stocklevel_product_id_b87573e7"}
