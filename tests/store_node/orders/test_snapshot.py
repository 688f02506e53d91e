"""Open pickup orders in a snapshot: a store that loads one has the orders routed to it before the
snapshot's cursor (their ``order.placed`` come as event rows), once, and head office's statuses
never move its copy back to a status it has passed."""

import pytest

from retail.outbox.models import Event
from retail.replication.appliers import ApplyContext, event_apply
from retail.replication.snapshot import SnapshotLoader
from retail.replication.wire import Envelope
from store_node.orders.models import PickupOrder
from store_node.orders.selectors import orders_to_pick
from tests.store_node.orders.conftest import placed_envelope

pytestmark = pytest.mark.django_db


def _load(*envs):
    loader = SnapshotLoader(cursor=40)
    for env in envs:
        loader.add({"t": "event", "event": env.as_wire()})
    return loader.finish()


def _status_from_head_office(env, status, seq=2):
    payload = {"id": env.payload["id"], "number": env.payload["number"], "store_id": env.payload["store_id"],
               "status": status, "at": "2026-11-23T10:00:00+00:00", "by": "cloud", "note": ""}  # fmt: skip
    return Envelope(env.id, "cloud", seq, seq, "order.status_changed", 1, payload, seq)


def test_a_store_loading_a_snapshot_after_an_order_was_routed_to_it_has_the_order_to_pick(shop):
    # given head office's order for this store, placed before the snapshot's cursor (never pulled)
    env = placed_envelope(shop)

    # when the store loads the snapshot
    counts = _load(env)

    # then the order is on the pick list with its lines, and head office is told it is routed
    assert counts["event"] == 1
    [order] = orders_to_pick()
    assert (str(order.id), order.status) == (env.payload["id"], "routed")
    assert [(line.sku, line.quantity) for line in order.lines.all()] == [("T1", 2), ("H1", 1)]
    assert list(Event.objects.values_list("type", "payload__status")) == [("order.status_changed", "routed")]


def test_the_same_order_in_the_snapshot_and_the_feed_after_it_is_held_and_answered_once(shop):
    env = placed_envelope(shop)
    _load(env)

    # when the feed after the cursor brings its order.placed again (an overlap), and a snapshot reloads
    event_apply(env=env, ctx=ApplyContext())
    _load(env)

    assert PickupOrder.objects.count() == 1
    assert Event.objects.filter(type="order.status_changed").count() == 1


def test_head_office_statuses_move_the_stores_copy_forward_never_back(shop):
    # given an order this store holds and has marked ready
    env = placed_envelope(shop)
    _load(env)
    PickupOrder.objects.update(status="ready")

    # when head office's older "picking" arrives (a feed page overlapping the snapshot)
    event_apply(env=_status_from_head_office(env, "picking"), ctx=ApplyContext())

    # then the copy stays ready; and head office's cancellation still closes it, for good
    assert PickupOrder.objects.get().status == "ready"
    event_apply(env=_status_from_head_office(env, "cancelled", seq=3), ctx=ApplyContext())
    event_apply(env=_status_from_head_office(env, "ready", seq=4), ctx=ApplyContext())
    assert PickupOrder.objects.get().status == "cancelled"
