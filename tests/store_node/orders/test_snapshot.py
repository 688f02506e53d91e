"""Open pickup orders in a snapshot: a store that loads one has the orders routed to it before the
snapshot's cursor, once, and never moves an order back to a status it has passed."""

import pytest

from retail.outbox.models import Event
from retail.replication.appliers import ApplyContext, event_apply
from retail.replication.snapshot import SnapshotLoader
from retail.replication.wire import Envelope
from store_node.orders.models import PickupOrder
from store_node.orders.selectors import orders_to_pick
from tests.store_node.orders.conftest import placed_envelope

pytestmark = pytest.mark.django_db


def _load(*rows, tables=("order",)):
    loader = SnapshotLoader(cursor=40, tables=tables)
    for row in rows:
        loader.add(row)
    return loader.finish()


def _row(env, status):
    return {"t": "order", **env.payload, "status": status}


def _status_from_head_office(env, status, seq=2):
    payload = {"id": env.payload["id"], "number": env.payload["number"], "store_id": env.payload["store_id"],
               "status": status, "at": "2026-11-23T10:00:00+00:00", "by": "cloud", "note": ""}  # fmt: skip
    return Envelope(env.id, "cloud", seq, seq, "order.status_changed", 1, payload, seq)


def test_a_store_loading_a_snapshot_after_an_order_was_routed_to_it_has_the_order_to_pick(shop):
    # given head office's order for this store, placed before the snapshot's cursor (never pulled)
    env = placed_envelope(shop)

    # when the store loads the snapshot
    counts = _load(_row(env, "placed"))

    # then the order is on the pick list with its lines, and head office is told it is routed
    assert counts["order"] == 1
    [order] = orders_to_pick()
    assert (str(order.id), order.status) == (env.payload["id"], "routed")
    assert [(line.sku, line.quantity) for line in order.lines.all()] == [("T1", 2), ("H1", 1)]
    assert list(Event.objects.values_list("type", "payload__status")) == [("order.status_changed", "routed")]


def test_the_same_order_in_the_snapshot_and_the_feed_after_it_is_held_and_answered_once(shop):
    env = placed_envelope(shop)
    _load(_row(env, "placed"))

    # when the feed after the cursor brings its order.placed again (an overlap), and the snapshot reloads
    event_apply(env=env, ctx=ApplyContext())
    _load(_row(env, "routed"))

    assert PickupOrder.objects.count() == 1
    assert Event.objects.filter(type="order.status_changed").count() == 1


def test_a_snapshot_moves_an_order_forward_never_back(shop):
    # given an order this store holds and has marked ready
    env = placed_envelope(shop)
    event_apply(env=env, ctx=ApplyContext())
    PickupOrder.objects.update(status="ready")

    # when a snapshot says picking (head office had not heard of ready yet) and the feed repeats it
    _load(_row(env, "picking"))
    event_apply(env=_status_from_head_office(env, "picking"), ctx=ApplyContext())

    # then it stays ready; and head office's later cancellation still closes it
    assert PickupOrder.objects.get().status == "ready"
    event_apply(env=_status_from_head_office(env, "cancelled", seq=3), ctx=ApplyContext())
    assert PickupOrder.objects.get().status == "cancelled"


def test_a_snapshot_ahead_of_the_store_moves_its_copy_on(shop):
    env = placed_envelope(shop)
    event_apply(env=env, ctx=ApplyContext())

    _load(_row(env, "ready"))

    assert PickupOrder.objects.get().status == "ready"
    assert Event.objects.count() == 1  # following head office is not news for head office


def test_an_order_first_seen_ready_in_a_snapshot_is_ready_to_collect(shop):
    env = placed_envelope(shop)

    _load(_row(env, "ready"))

    order = PickupOrder.objects.get()
    assert order.status == "ready" and all(line.picked == line.quantity for line in order.lines.all())
    assert not Event.objects.exists()


def test_an_open_order_head_office_no_longer_lists_was_closed_there_and_is_closed_here(shop):
    # given two orders held here; head office cancelled the first while this store could not pull
    first, second = placed_envelope(shop, number="W1"), placed_envelope(shop, number="W2")
    for env in (first, second):
        event_apply(env=env, ctx=ApplyContext())

    # when a snapshot lists only the second as open
    _load(_row(second, "routed"))

    # then the first is closed here too
    assert dict(PickupOrder.objects.values_list("number", "status")) == {"W1": "cancelled", "W2": "routed"}


def test_a_snapshot_of_a_cloud_that_sends_no_orders_leaves_the_stores_orders_alone(shop):
    event_apply(env=placed_envelope(shop), ctx=ApplyContext())

    _load(tables=None)

    assert PickupOrder.objects.get().status == "routed"


def test_a_snapshot_listing_orders_but_holding_none_closes_what_is_open_here(shop):
    event_apply(env=placed_envelope(shop), ctx=ApplyContext())

    _load()

    assert PickupOrder.objects.get().status == "cancelled"
