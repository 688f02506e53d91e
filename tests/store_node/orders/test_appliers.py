from decimal import Decimal

import pytest
from channels.layers import get_channel_layer

from retail.outbox.models import Event
from retail.replication.appliers import APPLIERS, ApplyContext, event_apply
from retail.replication.errors import ApplyRefused
from retail.replication.wire import Envelope
from store_node.orders.models import PickupOrder
from store_node.sync.models import PulledQuarantine, SyncState
from store_node.sync.services import _apply_page
from tests.store_node.orders.conftest import placed_envelope

pytestmark = pytest.mark.django_db


def test_an_order_placed_for_this_store_becomes_its_pickup_order_and_is_answered_routed(shop, settings):
    # given head office's order.placed for 2 teas and 1 honey
    env = placed_envelope(shop)

    # when the store applies it
    event_apply(env=env, ctx=ApplyContext())

    # then the store holds the order to pick, with its lines, and tells head office it is routed
    order = PickupOrder.objects.get()
    assert (str(order.id), order.number, order.status, order.prepaid, order.total) == (
        env.payload["id"],
        "W261123-ABC123",
        "routed",
        True,
        Decimal("9.00"),
    )
    assert list(order.lines.values_list("sku", "quantity", "picked")) == [
        ("T1", Decimal("2.000"), Decimal("0.000")),
        ("H1", Decimal("1.000"), Decimal("0.000")),
    ]
    event = Event.objects.get()
    assert (event.origin, event.type, event.payload["status"], event.payload["id"], event.payload["by"]) == (
        settings.STORE_CODE,
        "order.status_changed",
        "routed",
        env.payload["id"],
        settings.STORE_CODE,
    )


def test_applying_the_same_order_again_changes_nothing(shop):
    env = placed_envelope(shop)
    event_apply(env=env, ctx=ApplyContext())

    event_apply(env=env, ctx=ApplyContext())

    assert (PickupOrder.objects.count(), Event.objects.count()) == (1, 1)


def test_an_order_placed_written_by_a_store_is_refused(shop):
    env = placed_envelope(shop)
    forged = Envelope(env.id, "S09", 1, 1, env.type, 1, env.payload)

    with pytest.raises(ApplyRefused) as refused:
        event_apply(env=forged, ctx=ApplyContext())

    assert refused.value.reason == "not_owner"
    assert PickupOrder.objects.count() == 0


def test_head_office_cancelling_an_order_cancels_the_stores_copy(shop):
    env = placed_envelope(shop)
    event_apply(env=env, ctx=ApplyContext())
    cancel = {
        "id": env.payload["id"],
        "number": "W261123-ABC123",
        "store_id": str(shop.store.id),
        "status": "cancelled",
        "at": "2026-11-23T10:00:00+00:00",
        "by": "cloud",
        "note": "",
    }

    event_apply(env=Envelope(env.id, "cloud", 2, 2, "order.status_changed", 1, cancel), ctx=ApplyContext())

    assert PickupOrder.objects.get().status == "cancelled"


@pytest.mark.django_db(transaction=True)
def test_a_cancellation_by_head_office_is_pushed_to_the_terminals(shop):
    # given an order at the store and a listener on lane T02's group
    from asgiref.sync import async_to_sync

    env = placed_envelope(shop)
    event_apply(env=env, ctx=ApplyContext())
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"terminal-{shop.terminal.id.hex}", channel)
    cancel = {
        **env.payload,
        "status": "cancelled",
        "at": "2026-11-23T10:00:00+00:00",
        "by": "cloud",
        "note": "",
    }

    # when head office's cancellation comes in through the pull
    _apply_page([Envelope(env.id, "cloud", 2, 2, "order.status_changed", 1, cancel, 2).as_wire()], cursor=2)

    # then the terminal hears of it (its badge drops the order)
    message = async_to_sync(layer.receive)(channel)
    assert message == {"type": "terminal.order", "order": "W261123-ABC123", "status": "cancelled"}


@pytest.mark.django_db(transaction=True)
def test_an_arriving_order_is_pushed_to_every_terminal_of_the_store(shop):
    # given a listener on lane T02's group
    from asgiref.sync import async_to_sync

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"terminal-{shop.terminal.id.hex}", channel)

    # when an order arrives through the pull
    _apply_page([placed_envelope(shop).as_wire()], cursor=1)

    # then the terminal hears of it after commit
    message = async_to_sync(layer.receive)(channel)
    assert message == {"type": "terminal.order", "order": "W261123-ABC123", "status": "routed"}


def test_an_event_type_without_an_applier_here_is_quarantined_and_the_pull_goes_on(shop, monkeypatch):
    # given a type this store knows by name but has no applier for (a newer role's, say)
    SyncState.objects.create(pk=1)
    monkeypatch.delitem(APPLIERS, "order.placed")
    first = placed_envelope(shop, seq=1)
    second_payload = {**first.payload, "id": "0190b5d5-0000-7000-8000-000000000001", "number": "W2"}
    second = Envelope(first.id, "cloud", 2, 2, "order.placed", 1, second_payload, 2)

    # when a page with two of them is applied
    applied, quarantined = _apply_page([first.as_wire(), second.as_wire()], cursor=2)

    # then both are kept in quarantine with the reason, and the cursor moves past them
    assert (applied, quarantined) == (0, 2)
    assert list(PulledQuarantine.objects.order_by("fseq").values_list("fseq", "reason")) == [
        (1, "unknown_type"),
        (2, "unknown_type"),
    ]
    assert SyncState.objects.get(pk=1).pull_cursor == 2
