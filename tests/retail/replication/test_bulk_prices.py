"""A store applies a run of head office's prices set-based (retail/replication/bulk.py,
``prices_set_bulk``) exactly as ``event_apply`` one price at a time would."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from retail.catalog.models import Price
from retail.replication.appliers import ApplyContext, event_apply
from retail.replication.bulk import prices_set_bulk
from retail.replication.errors import ApplyRefused
from retail.replication.wire import Envelope
from tests.factories import make_product, make_store


class _Rollback(Exception):
    pass


_MOMENTS = ["2026-03-01T00:00:00Z", "2026-03-01T01:00:00+01:00", "2026-04-01T00:00:00Z"]


def _env(seq, payload, origin="cloud"):
    return Envelope(uuid.uuid4(), origin, seq, seq, "price.set", 1, payload)


def _prices():
    return sorted(
        Price.objects.values_list("id", "product_id", "store_id", "amount", "effective_from"), key=repr
    )


def _both_ways(envs):
    outcomes = []
    for bulk in (True, False):
        try:
            with transaction.atomic():
                refused, todo = [], envs
                if bulk:
                    _done, todo = prices_set_bulk(envs, ApplyContext())
                for env in todo:
                    try:
                        event_apply(env=env, ctx=ApplyContext())
                    except ApplyRefused as exc:
                        refused.append((env.seq, exc.reason))
                outcomes.append((refused, _prices()))
                raise _Rollback
        except _Rollback:
            pass
    return outcomes


price = st.tuples(
    st.integers(0, 3),  # which price id (few, so ids repeat and move)
    st.integers(0, 2),  # which product (2: one this node does not hold)
    st.booleans(),  # for the store, or chain-wide
    st.integers(0, 2),  # which moment (two of them are the same instant)
    st.sampled_from(["1.00", "2.50", "-1.00", "3", 4]),  # a negative one and a number are refused
)


@settings(max_examples=80)
@given(picked=st.lists(price, min_size=1, max_size=12), odd_origin=st.booleans())
def test_a_run_of_prices_lands_as_price_by_price(db, picked, odd_origin):
    # given prices this node holds already: one at a moment the run may write, one (whose id the
    # run may reuse) at a moment it does not; and a run of price.set events
    products = [make_product("9.99"), make_product(None)]
    store = make_store()
    ids = [uuid.uuid4() for _ in range(4)]
    Price.objects.create(
        product=products[1], store=store, amount=Decimal("7"), effective_from=datetime(2026, 3, 1, tzinfo=UTC)
    )
    Price.objects.create(
        id=ids[0], product=products[0], amount=Decimal("8"), effective_from=datetime(2026, 5, 1, tzinfo=UTC)
    )
    envs = [
        _env(seq, {"id": str(ids[i]), "product_id": str(products[p].id) if p < 2 else str(uuid.uuid4()),
                   "store_id": str(store.id) if here else None, "amount": amount, "effective_from": _MOMENTS[m]},
             origin="S01" if odd_origin and seq == 3 else "cloud")
        for seq, (i, p, here, m, amount) in enumerate(picked, start=1)
    ]  # fmt: skip
    # when it is applied set-based (the odd ones left to the careful path), and one by one
    bulk, one_by_one = _both_ways(envs)
    # then the prices and the refusals are the same
    assert bulk == one_by_one


def test_a_later_price_for_the_same_moment_replaces_the_earlier_one(db):
    # given head office setting a product's price for one moment twice (two ids), and another moment
    product = make_product(None)
    first, second, other = (str(uuid.uuid4()) for _ in range(3))
    envs = [
        _env(1, {"id": first, "product_id": str(product.id), "store_id": None, "amount": "1.00",
                 "effective_from": _MOMENTS[0]}),
        _env(2, {"id": other, "product_id": str(product.id), "store_id": None, "amount": "3.00",
                 "effective_from": _MOMENTS[2]}),
        _env(3, {"id": second, "product_id": str(product.id), "store_id": None, "amount": "2.00",
                 "effective_from": _MOMENTS[1]}),  # the same instant as the first, written another way
    ]  # fmt: skip
    # when the store applies the run
    applied, left = prices_set_bulk(envs, ApplyContext())
    # then all are applied set-based and the moment holds the later price only
    assert (len(applied), left) == (3, [])
    assert sorted((str(p.id), p.amount) for p in Price.objects.all()) == sorted(
        [(second, Decimal("2.00")), (other, Decimal("3.00"))]
    )


def test_a_price_moved_by_the_run_and_then_replaced_is_gone(db):
    # given a price this node holds at one moment
    product = make_product(None)
    held = Price.objects.create(
        product=product, amount=Decimal("8"), effective_from=datetime(2026, 5, 1, tzinfo=UTC)
    )
    newer = str(uuid.uuid4())
    # when the run moves it to another moment, then gives that moment another price
    envs = [
        _env(1, {"id": str(held.id), "product_id": str(product.id), "store_id": None, "amount": "1.00",
                 "effective_from": _MOMENTS[0]}),
        _env(2, {"id": newer, "product_id": str(product.id), "store_id": None, "amount": "2.00",
                 "effective_from": _MOMENTS[0]}),
    ]  # fmt: skip
    bulk, one_by_one = _both_ways(envs)
    # then, as price by price, only the newer price is left
    assert bulk == one_by_one
    assert [(str(p[0]), p[3]) for p in bulk[1]] == [(newer, Decimal("2.00"))]
