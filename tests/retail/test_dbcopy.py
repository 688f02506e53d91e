"""retail/dbcopy.py: the few-rows INSERT and the many-rows COPY write the same rows; ``ids_found``
answers several look-ups as ``ids_existing`` would one by one. Runs on SQLite here and on
PostgreSQL in CI's cloud pass, where the server-side paths are the ones taken."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from retail import dbcopy
from retail.catalog.models import Product
from retail.dbcopy import SMALL_INSERT_ROWS, ids_existing, ids_found, rows_insert
from retail.members.models import Member
from retail.outbox.models import Event
from retail.stock.models import StockMovement
from retail.stores.models import Store
from tests.factories import make_member, make_product, make_store

pytestmark = pytest.mark.django_db

_MOVEMENT = ["id", "store_id", "product_id", "kind", "quantity", "reference", "note", "origin", "created_at"]


def _movements(store, product, n):
    at = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    return [
        (uuid.uuid4(), store.id, product.id, "sale", Decimal(f"-{i}.125"), f"r{i}", "", "S01", at)
        for i in range(n)
    ]


@pytest.mark.parametrize("n", [0, 1, 3, SMALL_INSERT_ROWS, SMALL_INSERT_ROWS + 1, 2 * SMALL_INSERT_ROWS + 7])
def test_rows_are_written_as_given_on_either_side_of_the_small_insert_bound(n):
    store, product = make_store("S01"), make_product("1.00")
    rows = _movements(store, product, n)
    assert rows_insert(StockMovement, _MOVEMENT, iter(rows)) == n
    written = {m.id: m for m in StockMovement.objects.all()}
    assert len(written) == n
    for row in rows:
        m = written[row[0]]
        assert (m.store_id, m.product_id, m.kind, m.quantity, m.reference, m.origin, m.created_at) == (
            row[1],
            row[2],
            row[3],
            row[4],
            row[5],
            row[7],
            row[8],
        )


@pytest.mark.parametrize("n", [1, SMALL_INSERT_ROWS + 1])
def test_json_values_arrive_as_the_same_json(n):
    payload = {"a": [1, "two", None, True], "b": {"c": "d\"e'f"}, "big": 2**70}
    at = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    fields = ["id", "origin", "seq", "hlc", "type", "schema", "payload", "created_at"]
    rows = [(uuid.uuid4(), "S01", i + 1, 1000 + i, "x.y", 1, payload, at) for i in range(n)]
    rows_insert(Event, fields, rows)
    assert [e.payload for e in Event.objects.order_by("seq")] == [payload] * n


@pytest.mark.parametrize("n", [1, SMALL_INSERT_ROWS + 1])
def test_a_duplicate_key_is_refused_whole_and_writes_nothing(n):
    store, product = make_store("S01"), make_product("1.00")
    rows = _movements(store, product, n)
    rows_insert(StockMovement, _MOVEMENT, rows[:1])
    with pytest.raises(IntegrityError), transaction.atomic():
        rows_insert(StockMovement, _MOVEMENT, rows)
    assert StockMovement.objects.count() == 1


def test_several_look_ups_in_one_answer_as_each_alone():
    stores = [make_store(f"S0{i}") for i in range(1, 4)]
    products = [make_product(f"{i}.00") for i in range(1, 3)]
    survivor = make_member()
    merged = make_member()
    Member.objects.filter(pk=merged.pk).update(merged_into=survivor)
    missing = [uuid.uuid4(), uuid.uuid4()]
    store_ids = [stores[0].id, stores[2].id, missing[0]]
    product_ids = [products[1].id, missing[1]]
    found = ids_found(
        (Store, store_ids, ""),
        (Product, [], ""),  # nothing asked: nothing found
        (Product, product_ids, ""),
        (Member, [survivor.id, merged.id, missing[0]], "merged_into_id"),
        (Store, product_ids, ""),  # ids of another table are not found here
    )
    assert set(found[0]) == ids_existing(Store, store_ids) == {stores[0].id, stores[2].id}
    assert found[1] == {}
    assert set(found[2]) == ids_existing(Product, product_ids) == {products[1].id}
    assert found[3] == {survivor.id: None, merged.id: survivor.id}
    assert found[4] == {}


def test_nothing_asked_sends_nothing(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a query was sent")

    monkeypatch.setattr(dbcopy, "pg_cursor", refuse)
    monkeypatch.setattr(connection, "cursor", refuse)
    assert ids_found((Store, [], ""), (Product, set(), "")) == [{}, {}]
    assert rows_insert(StockMovement, _MOVEMENT, iter(())) == 0


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's one-statement upserts: CI's cloud pass"
)
def test_several_upserts_in_one_statement_add_as_each_alone():
    from cloud.reporting.models import DailyChainProductSales, MonthlyChainProductSales
    from retail.dbcopy import pg_upserts_add, upsert_add_statement

    product = make_product("1.00")
    day, month = datetime(2026, 3, 5).date(), datetime(2026, 3, 1).date()

    def statements(quantity):
        return [
            upsert_add_statement(
                DailyChainProductSales, ("day", "product_id"), ("quantity", "total"), [(day, product.id, quantity, 2 * quantity)]
            ),
            upsert_add_statement(
                MonthlyChainProductSales, ("month", "product_id"), ("quantity", "total"), [(month, product.id, quantity, 3 * quantity)]
            ),
        ]  # fmt: skip

    pg_upserts_add(statements(Decimal(2)))
    pg_upserts_add(statements(Decimal(5)))
    daily = DailyChainProductSales.objects.get(day=day, product=product)
    monthly = MonthlyChainProductSales.objects.get(month=month, product=product)
    assert (daily.quantity, daily.total) == (Decimal(7), Decimal(14))
    assert (monthly.quantity, monthly.total) == (Decimal(7), Decimal(21))
