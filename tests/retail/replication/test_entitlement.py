"""Who may learn which event: a transfer reaches its two stores, its receipt the sending store."""

import uuid

from retail.replication.entitlement import EVERYONE, NOBODY, feed_audience, feed_audiences
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
    assert feed_audiences(_env("S01", "stock.moved", {})) == [EVERYONE]
    assert feed_audiences(_env("S01", "sale.completed", {})) == []
    price = _env("cloud", "price.set", {"store_id": str(S03)})
    assert [a.store_id for a in feed_audiences(price)] == [S03]
