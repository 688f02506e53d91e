"""A store applies head office's published levels and balances of other stores (docs/events.md)."""

import uuid
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retail.members.models import Member, PointsEntry
from retail.members.services import points_post
from retail.outbox import hlc
from retail.replication.appliers import ApplyContext, event_apply
from retail.replication.wire import Envelope
from retail.stock.models import StockLevel, StockMovement
from retail.stock.services import stock_move
from tests.factories import make_member, make_product, make_store

pytestmark = pytest.mark.django_db


def _cloud(type_, payload):
    return Envelope(uuid.uuid4(), "cloud", 1, hlc.pack(hlc.now_millis(), 0), type_, 1, payload)


def _apply(env):
    event_apply(env=env, ctx=ApplyContext())


def _level(store, product):
    return StockLevel.objects.filter(store=store, product=product).values_list("on_hand", flat=True).first()


def test_another_stores_level_is_set_and_stays_the_sum_of_its_movements(store):
    other, product = make_store("S02"), make_product()
    stock_move(store_id=other.id, product_id=product.id, kind="receipt", quantity=Decimal("3"))
    levels = _cloud(
        "stock.levels", {"store_id": str(other.id), "region": "", "levels": [[str(product.id), "7.500"]]}
    )
    _apply(levels)
    assert _level(other, product) == Decimal("7.500")
    moves = StockMovement.objects.filter(store=other, product=product)
    assert sum(m.quantity for m in moves) == Decimal("7.500")
    assert moves.get(origin="cloud").kind == "count"
    # applied again (the feed overlapping a snapshot): nothing changes
    _apply(levels)
    assert moves.count() == 2 and _level(other, product) == Decimal("7.500")


def test_a_store_never_takes_its_own_level_from_head_office(store):
    product = make_product()
    stock_move(store_id=store.id, product_id=product.id, kind="receipt", quantity=Decimal("5"))
    _apply(
        _cloud(
            "stock.levels", {"store_id": str(store.id), "region": "", "levels": [[str(product.id), "1.000"]]}
        )
    )
    assert _level(store, product) == Decimal("5")  # its own ledger says so, including unsent sales


def test_a_balance_counts_this_stores_entries_after_its_ack_on_top(store):
    member = make_member()
    first = points_post(member_id=member.id, kind="earn", points=100)  # event seq 1, acknowledged
    points_post(member_id=member.id, kind="redeem", points=-30)  # seq 2, not yet at head office
    assert first and Member.objects.get(pk=member.id).points_balance == 70
    # head office: 100 from us (ack 1) and 50 earned at S02
    env = _cloud("points.balances", {"balances": [[str(member.id), 150]], "acks": {"S01": 1, "S02": 9}})
    _apply(env)
    member.refresh_from_db()
    assert member.points_balance == 150 - 30  # its own redemption is not lost
    assert sum(PointsEntry.objects.filter(member=member).values_list("points", flat=True)) == 120
    assert PointsEntry.objects.get(member=member, origin="cloud").kind == "adjust"
    _apply(env)  # again: no change
    assert Member.objects.get(pk=member.id).points_balance == 120
    assert PointsEntry.objects.filter(member=member).count() == 3


@settings(max_examples=40, deadline=None)
@given(
    own=st.lists(st.integers(min_value=-50, max_value=200), max_size=6),
    acked=st.integers(min_value=0, max_value=6),
    others=st.integers(min_value=-100, max_value=1000),
)
def test_after_any_publication_the_balance_is_head_offices_plus_what_it_has_not_seen(
    store, own, acked, others
):
    # given this store's entries, the first ``acked`` of which head office has applied
    member = make_member()
    for points in own:
        points_post(member_id=member.id, kind="adjust", points=points)
    from retail.outbox.models import Event

    seqs = list(
        Event.objects.filter(type="points.posted", payload__member_id=str(member.id))
        .order_by("seq")
        .values_list("seq", flat=True)
    )
    acked = min(acked, len(seqs))
    ack = seqs[acked - 1] if acked else (seqs[0] - 1 if seqs else 0)
    at_head_office = others + sum(own[:acked])
    # when head office publishes the balance as of that ack
    _apply(_cloud("points.balances", {"balances": [[str(member.id), at_head_office]], "acks": {"S01": ack}}))
    # then the balance is head office's plus its own entries after the ack, and equals its ledger
    member.refresh_from_db()
    assert member.points_balance == others + sum(own)
    assert member.points_balance == sum(
        PointsEntry.objects.filter(member=member).values_list("points", flat=True)
    )
