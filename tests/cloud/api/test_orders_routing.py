"""Click and collect at the cloud: pickup orders go to their store as events, its statuses come back."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from cloud.api.models import Order
from cloud.api.orders import order_status_set
from retail.outbox.models import Event
from retail.replication.appliers import ApplyContext, event_apply
from retail.replication.entitlement import feed_audience
from retail.replication.errors import ApplyRefused
from retail.replication.wire import Envelope, envelope_of_event
from retail.stock.services import stock_move
from tests.factories import make_product, make_store

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db):
    s1, s2 = make_store("S01"), make_store("S02")
    tea = make_product("2.50", sku="T1", name="Tea", rate="0.07", tax="RED")
    stock_move(store_id=s2.id, product_id=tea.id, kind="receipt", quantity=Decimal("3"))
    return s1, s2, tea


def _pickup(api, reference="o-1", **extra):
    body = {
        "reference": reference,
        "fulfilment": "pickup",
        "store": "S02",
        "lines": [{"sku": "T1", "quantity": "2"}],
    }
    response = api.post("/api/v1/orders", {**body, **extra}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_pickup_order_is_announced_to_its_store_alone(api, shop):
    _, s2, tea = shop

    placed = _pickup(api, customer_name="Ada", prepaid=True)

    event = Event.objects.get(type="order.placed")
    order = Order.objects.get(number=placed["number"])
    assert event.origin == "cloud"
    assert {
        k: event.payload[k] for k in ("id", "number", "store_id", "fulfilment", "prepaid", "customer_name")
    } == {
        "id": str(order.id),
        "number": placed["number"],
        "store_id": str(s2.id),
        "fulfilment": "pickup",
        "prepaid": True,
        "customer_name": "Ada",
    }
    assert (event.payload["subtotal"], event.payload["total"]) == ("5.00", "5.00")
    assert event.payload["lines"] == [
        {
            "position": 1,
            "product_id": str(tea.id),
            "sku": "T1",
            "description": "Tea",
            "quantity": "2.000",
            "unit_price": "2.50",
            "line_total": "5.00",
        }
    ]
    assert feed_audience(envelope_of_event(event)).store_id == s2.id


def test_a_delivery_order_is_not_announced_to_any_store(api, shop):
    body = {"address": "Unter den Linden 1", "postcode": "10117", "city": "Berlin", "fulfilment": "delivery"}
    api.post(
        "/api/v1/orders",
        {"reference": "d-1", "lines": [{"sku": "T1", "quantity": "1"}], **body},
        format="json",
    )

    assert Event.objects.filter(type__startswith="order.").count() == 0


def test_head_office_moving_a_pickup_order_tells_its_store(api, shop):
    placed = _pickup(api)

    api.post(f"/api/v1/orders/{placed['number']}/cancel")

    event = Event.objects.get(type="order.status_changed")
    assert (event.payload["status"], event.payload["number"], event.payload["by"]) == (
        "cancelled",
        placed["number"],
        "cloud",
    )
    assert feed_audience(envelope_of_event(event)).store_id == shop[1].id


def _from_store(order, status, *, store, seq=1):
    payload = {
        "id": str(order.id),
        "number": order.number,
        "store_id": str(order.store_id),
        "status": status,
        # the store reports after the order was placed (a fixed date would fall before it one day)
        "at": (order.created_at + timedelta(seconds=seq)).isoformat(),
        "by": store.code,
        "note": "",
    }
    env = Envelope(uuid.uuid4(), store.code, seq, seq, "order.status_changed", 1, payload)
    event_apply(env=env, ctx=ApplyContext(origin_store_id=store.id))


def test_the_stores_statuses_flow_back_to_the_api(api, shop):
    # given an order placed for S02
    _, s2, _ = shop
    placed = _pickup(api)
    order = Order.objects.get(number=placed["number"])

    # when S02 reports it routed, picking and ready
    for n, status in enumerate(["routed", "picking", "ready"], start=1):
        _from_store(order, status, store=s2, seq=n)

    # then the API shows the order ready, with the store's history, and the cloud re-announced nothing
    shown = api.get(f"/api/v1/orders/{placed['number']}").json()
    assert (shown["status"], shown["status_text"]) == ("ready", "Ready for collection")
    assert [(h["status"], h["note"]) for h in shown["history"]] == [
        ("placed", "placed online"),
        ("routed", "by store S02"),
        ("picking", "by store S02"),
        ("ready", "by store S02"),
    ]
    assert Event.objects.filter(type="order.status_changed").count() == 0


def test_a_late_routed_after_head_office_moved_the_order_on_changes_nothing(api, shop):
    _, s2, _ = shop
    order = Order.objects.get(number=_pickup(api)["number"])
    order_status_set(order=order, status="picking", note="by head office")

    _from_store(order, "routed", store=s2)

    order.refresh_from_db()
    assert (order.status, order.history.count()) == ("picking", 2)


def test_another_store_cannot_move_the_order(api, shop):
    s1, _, _ = shop
    order = Order.objects.get(number=_pickup(api)["number"])

    with pytest.raises(ApplyRefused) as refused:
        _from_store(order, "routed", store=s1)

    assert refused.value.reason == "not_owner"
    order.refresh_from_db()
    assert order.status == "placed"


def test_a_store_moving_a_cancelled_order_on_is_refused(api, shop):
    _, s2, _ = shop
    order = Order.objects.get(number=_pickup(api)["number"])
    order_status_set(order=order, status="cancelled")

    with pytest.raises(ApplyRefused) as refused:
        _from_store(order, "ready", store=s2)

    assert (refused.value.reason, refused.value.detail) == (
        "invalid_payload",
        "status_refused: an order cancelled cannot become ready",
    )


def _collection(order, store) -> list[dict]:
    """What the store appends when a prepaid order is collected (store_node.orders.services.order_collect):
    a sale movement per line, then the status, as its seq 1, 2, …"""
    from tests.cloud.sync.conftest import envelope, moved

    movements = [
        {**moved(store, line.product, -line.quantity), "reference": order.number}
        for line in order.lines.all()
    ]
    collected = {
        "id": str(order.id),
        "number": order.number,
        "store_id": str(store.id),
        "status": "collected",
        "at": (order.created_at + timedelta(seconds=10)).isoformat(),
        "by": store.code,
        "note": "at T01 by c101",
    }
    payloads = [("stock.moved", m) for m in movements] + [("order.status_changed", collected)]
    return [envelope(store.code, seq, type, payload) for seq, (type, payload) in enumerate(payloads, start=1)]


def _at_s02(api) -> tuple[str, str, str]:
    shown = api.get("/api/v1/products/T1/availability?store=S02").json()["stores"][0]
    return shown["on_hand"], shown["reserved"], shown["status"]


@pytest.mark.parametrize("batches", [[2], [1, 1]], ids=["one batch", "a batch ending after the movement"])
def test_a_collected_order_holds_nothing_once_its_goods_are_off_the_stock(api, shop, batches):
    from cloud.sync.services import sync_push_ingest

    # given 3 teas at S02 and a prepaid order for 2 that S02 made ready: 1 tea left for sale
    _, s2, _ = shop
    order = Order.objects.get(number=_pickup(api, prepaid=True)["number"])
    for n, status in enumerate(["routed", "picking", "ready"], start=1):
        _from_store(order, status, store=s2, seq=n)
    assert _at_s02(api) == ("3.000", "2.000", "low")

    # when S02 pushes its collection (the sale movement, then "collected"), in one batch or two
    events, seen = _collection(order, s2), []
    for size in batches:
        sync_push_ingest(store=s2, raw_events=events[:size])
        events = events[size:]
        seen.append(_at_s02(api))

    # then the 2 teas are off the stock and no longer held: still 1 for sale, as at the store
    assert seen[-1] == ("1.000", "0.000", "low")
    order.refresh_from_db()
    assert order.status == "collected"
    # and between two batches the teas are both gone and held: availability too low for a moment
    # (docs/sync-protocol.md §7), never showing more than is on the shelf
    assert seen[:-1] == ([("1.000", "2.000", "out")] if len(batches) == 2 else [])
