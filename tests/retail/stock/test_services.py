from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import given
from hypothesis import strategies as st

from retail.dbmath import decimal_sum
from retail.outbox.models import Event
from retail.stock.models import MovementKind, StockLevel, StockMovement
from retail.stock.services import StockError, stock_count, stock_move, stock_on_hand
from tests.factories import make_product, make_store

pytestmark = pytest.mark.django_db

quantities = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("500"), places=3)
movement = st.one_of(
    st.tuples(st.sampled_from(["sale", "transfer_out", "write_off"]), quantities.map(lambda q: -q)),
    st.tuples(st.sampled_from(["return", "receipt", "transfer_in"]), quantities),
    st.tuples(st.just("count"), quantities),
)


def ledger_sum(store, product) -> Decimal:
    # Summed in Python from the stored rows: the test must not share the code it checks.
    quantities = StockMovement.objects.filter(store=store, product=product).values_list("quantity", flat=True)
    return sum(quantities, Decimal(0))


@given(moves=st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1), movement), max_size=25))
def test_on_hand_always_equals_the_sum_of_movements(moves):
    with transaction.atomic():
        stores = [make_store(), make_store()]
        products = [make_product(), make_product()]
        for store_i, product_i, (kind, quantity) in moves:
            stock_move(
                store_id=stores[store_i].id, product_id=products[product_i].id, kind=kind, quantity=quantity
            )
            for s in stores:
                for p in products:
                    assert stock_on_hand(store_id=s.id, product_id=p.id) == ledger_sum(s, p)
        assert Event.objects.filter(type="stock.moved").count() == len(moves)
        transaction.set_rollback(True)


def test_a_sale_movement_must_be_negative_and_changes_nothing_when_refused():
    store, product = make_store(), make_product()

    with pytest.raises(StockError, match="must be negative"):
        stock_move(store_id=store.id, product_id=product.id, kind=MovementKind.SALE, quantity=Decimal("2"))

    assert StockMovement.objects.count() == 0
    assert StockLevel.objects.count() == 0
    assert Event.objects.count() == 0


def test_a_count_records_its_difference_from_the_book():
    store, product = make_store(), make_product()
    stock_move(store_id=store.id, product_id=product.id, kind="receipt", quantity=Decimal("10"))
    stock_move(store_id=store.id, product_id=product.id, kind="sale", quantity=Decimal("-3"))

    movement = stock_count(store_id=store.id, product_id=product.id, counted=Decimal("5"))

    assert movement.kind == "count" and movement.quantity == Decimal("-2")
    assert stock_on_hand(store_id=store.id, product_id=product.id) == Decimal("5")
    counted = Event.objects.get(type="stock.counted").payload
    assert (counted["book"], counted["counted"], counted["difference"]) == ("7.000", "5", "-2.000")


def test_a_count_taken_before_a_sale_and_posted_after_it_keeps_the_sale():
    # given 10 on the book when the shelf is counted at 8, then a sale of 1 before the count is posted
    store, product = make_store(), make_product()
    stock_move(store_id=store.id, product_id=product.id, kind="receipt", quantity=Decimal("10"))
    book_when_counted = stock_on_hand(store_id=store.id, product_id=product.id)
    stock_move(store_id=store.id, product_id=product.id, kind="sale", quantity=Decimal("-1"))

    # when the count is posted against the book it was taken against
    movement = stock_count(
        store_id=store.id, product_id=product.id, counted=Decimal("8"), book=book_when_counted
    )

    # then it records -2 (8 against 10), and the sale still counts: 7 on the book, as on the shelf
    assert movement.quantity == Decimal("-2")
    assert stock_on_hand(store_id=store.id, product_id=product.id) == Decimal("7")
    counted = Event.objects.get(type="stock.counted").payload
    assert (counted["book"], counted["counted"], counted["difference"]) == ("10.000", "8", "-2.000")


def test_a_counts_note_says_who_counted_in_its_movement_and_its_event():
    store, product = make_store(), make_product()

    movement = stock_count(
        store_id=store.id, product_id=product.id, counted=Decimal("2"), note="counted by c101"
    )

    assert movement.note == "counted by c101"
    assert Event.objects.get(type="stock.counted").payload["note"] == "counted by c101"


def test_decimal_sum_is_exact_where_sqlite_sums_in_floating_point():
    store, product = make_store(), make_product()
    for q in ("-0.001", "-0.056", "0.1", "0.2", "-0.3"):
        stock_move(store_id=store.id, product_id=product.id, kind="count", quantity=Decimal(q))

    moved = StockMovement.objects.filter(store=store, product=product)
    assert decimal_sum(moved, "quantity", places=3) == Decimal("-0.057")
    assert stock_on_hand(store_id=store.id, product_id=product.id) == Decimal("-0.057")


def test_decimal_sum_groups_and_filters_like_sum():
    from django.db.models import Q

    from retail.dbmath import DecimalSum

    store, product = make_store(), make_product()
    for q in ("-0.001", "-0.056", "0.333"):
        stock_move(store_id=store.id, product_id=product.id, kind="count", quantity=Decimal(q))

    totals = StockMovement.objects.values("store").annotate(
        net=DecimalSum("quantity", places=3), out=DecimalSum("quantity", places=3, filter=Q(quantity__lt=0))
    )
    assert list(totals.values_list("net", "out")) == [(Decimal("0.276"), Decimal("-0.057"))]
    nothing = StockMovement.objects.filter(quantity__gt=1000)
    assert nothing.aggregate(s=DecimalSum("quantity", places=3))["s"] == Decimal("0.000")


@given(
    before=st.lists(st.tuples(st.integers(0, 2), movement), max_size=6),
    batch=st.lists(st.tuples(st.integers(0, 2), movement), min_size=1, max_size=12),
)
def test_a_batch_of_moves_keeps_on_hand_equal_to_the_ledger_and_appends_its_events_in_order(before, batch):
    from retail.stock.services import Move, stock_move_many

    with transaction.atomic():
        # given a store where some products already moved (others never did)
        store, products = make_store(), [make_product(), make_product(), make_product()]
        for product_i, (kind, quantity) in before:
            stock_move(store_id=store.id, product_id=products[product_i].id, kind=kind, quantity=quantity)
        first_seq = Event.objects.count() + 1
        # when a batch moves them, the same product possibly several times
        movements = stock_move_many(
            store_id=store.id,
            moves=[
                Move(product_id=products[i].id, kind=kind, quantity=quantity, reference="R1")
                for i, (kind, quantity) in batch
            ],
        )
        # then every level equals its ledger, and there is one event per movement, in order, gapless
        for p in products:
            assert stock_on_hand(store_id=store.id, product_id=p.id) == ledger_sum(store, p)
        assert StockLevel.objects.filter(store=store).count() == len({i for i, _ in before + batch})
        events = list(Event.objects.filter(seq__gte=first_seq).order_by("seq"))
        assert [e.seq for e in events] == list(range(first_seq, first_seq + len(batch)))
        assert [e.payload["id"] for e in events] == [str(m.id) for m in movements]
        assert [e.payload["quantity"] for e in events] == [f"{q}" for _, (_, q) in batch]
        hlcs = [e.hlc for e in events]
        assert hlcs == sorted(set(hlcs))
        transaction.set_rollback(True)


def test_a_batch_with_one_wrongly_signed_move_writes_nothing():
    from retail.stock.services import Move, stock_move_many

    store, product = make_store(), make_product()

    with pytest.raises(StockError, match="must be negative"):
        stock_move_many(
            store_id=store.id,
            moves=[
                Move(product_id=product.id, kind=MovementKind.SALE, quantity=Decimal("-1")),
                Move(product_id=product.id, kind=MovementKind.SALE, quantity=Decimal("2")),
            ],
        )

    assert (StockMovement.objects.count(), StockLevel.objects.count(), Event.objects.count()) == (0, 0, 0)


def test_a_batch_of_five_lines_is_a_fixed_number_of_queries(django_assert_num_queries):
    from retail.stock.services import Move, stock_move_many

    store, products = make_store(), [make_product() for _ in range(5)]
    stock_move(store_id=store.id, product_id=products[0].id, kind="receipt", quantity=Decimal("9"))
    moves = [
        Move(product_id=p.id, kind="sale", quantity=Decimal("-1"), reference="S01-T01-000001")
        for p in products
    ]

    # movements, levels, missing levels, levels again, level update, clock, events (and a savepoint)
    with django_assert_num_queries(9):
        stock_move_many(store_id=store.id, moves=moves)

    assert stock_on_hand(store_id=store.id, product_id=products[0].id) == Decimal("8")
    assert stock_on_hand(store_id=store.id, product_id=products[4].id) == Decimal("-1")
