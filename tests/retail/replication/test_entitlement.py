"""Who may learn which event: a transfer reaches its two stores, its receipt the sending store."""

import uuid

from retail.replication.entitlement import EVERYONE, NOBODY, feed_audience, feed_audiences, nudges
from retail.replication.wire import Envelope

S01, S02, S03 = (uuid.UUID(int=n) for n in (1, 2, 3))


def _env(origin, type_, payload):
    return Envelope(uuid.uuid4(), origin, 1, 1, type_, 1, payload)


def test_head_offices_dispatch_goes_to_the_sending_and_the_receiving_store_alone():
    env = _env("cloud", "transfer.sent", {"from_store_id": str(S01), "to_store_id": str(S02), "lines": []})

    assert [(a.published, a.store_id) for a in feed_audiences(env)] == [(True, S01), (True, S02)]
    assert feed_audience(env).store_id == S02  # the one audience callers of the old function see


def test_the_receiving_stores_receipt_goes_back_to_the_sending_store_alone():
    env = _env("S02", "transfer.received", {"from_store_id": str(S01), "to_store_id": str(S02)})

    assert [(a.published, a.store_id) for a in feed_audiences(env)] == [(True, S01)]


def test_a_transfer_event_of_the_wrong_origin_reaches_nobody():
    forged_dispatch = _env("S03", "transfer.sent", {"from_store_id": str(S01), "to_store_id": str(S03)})
    heads_receipt = _env("cloud", "transfer.received", {"from_store_id": str(S01), "to_store_id": str(S02)})

    assert feed_audiences(forged_dispatch) == feed_audiences(heads_receipt) == []
    assert feed_audience(forged_dispatch) == NOBODY


def test_other_types_keep_their_single_audience():
    assert feed_audiences(_env("S01", "member.created", {})) == [EVERYONE]
    assert feed_audiences(_env("S01", "sale.completed", {})) == []
    price = _env("cloud", "price.set", {"store_id": str(S03)})
    assert [a.store_id for a in feed_audiences(price)] == [S03]


def test_a_stores_movements_and_points_are_not_relayed_but_published_as_levels_and_balances():
    # given a store's own facts that other stores show
    for type_ in ("stock.moved", "stock.counted", "points.posted"):
        assert feed_audiences(_env("S01", type_, {})) == []  # never one copy per line for every store
    # then head office's levels of S01 go to S01's region, never back to S01
    levels = _env("cloud", "stock.levels", {"store_id": str(S01), "region": "north", "levels": []})
    (audience,) = feed_audiences(levels)
    assert (audience.store_id, audience.region, audience.not_store_id) == (None, "north", S01)
    # and the balances go to every store
    assert feed_audiences(_env("cloud", "points.balances", {"balances": [], "acks": {}})) == [EVERYONE]


def test_only_head_offices_own_changes_and_entries_for_one_store_wake_the_stores():
    price = _env("cloud", "price.set", {"store_id": None})
    assert nudges(price, feed_audience(price))
    received = _env("S02", "transfer.received", {"from_store_id": str(S01), "to_store_id": str(S02)})
    assert nudges(received, feed_audience(received))
    member = _env("S01", "member.created", {})
    assert not nudges(member, feed_audience(member))
    for shared in (
        _env("cloud", "stock.levels", {"store_id": str(S01), "region": "", "levels": []}),
        _env("cloud", "points.balances", {"balances": [], "acks": {}}),
    ):
        assert not nudges(shared, feed_audience(shared))
