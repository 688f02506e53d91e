"""The till's click-and-collect API: orders ready here, and collecting them (prepaid or paid at the till)."""

import uuid
from decimal import Decimal

import pytest
from django.test import Client

from retail.replication.appliers import ApplyContext, event_apply
from retail.shifts.services import shift_open
from store_node.orders.models import PickupOrder
from store_node.orders.services import order_mark_ready, order_pick_line
from tests.store_node.orders.conftest import HONEY, TEA, placed_envelope

pytestmark = pytest.mark.django_db


@pytest.fixture
def till(shop):
    shift_open(terminal=shop.terminal, cashier=shop.cashier, opening_float=Decimal("100.00"))
    client = Client()
    token = client.post(
        "/api/checkout/terminal/login",
        {"terminal": "T02", "username": "c101", "pin": "1111"},
        content_type="application/json",
    ).json()["token"]

    def call(method, path, data=None):
        return getattr(client, method)(
            f"/api/checkout/{path}",
            data or {},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Terminal {token}",
        )

    return call


def _ready(shop, **kw) -> PickupOrder:
    event_apply(env=placed_envelope(shop, **kw), ctx=ApplyContext())
    order = PickupOrder.objects.get()
    for code in (TEA, TEA, HONEY):
        order_pick_line(order_id=order.id, scan=code)
    return order_mark_ready(order_id=order.id)


def test_the_ready_list_shows_each_order_with_its_lines(shop, till):
    order = _ready(shop)

    listed = till("get", "orders/ready")

    assert listed.status_code == 200
    [shown] = listed.json()
    assert (shown["number"], shown["status"], shown["prepaid"], shown["customer_name"]) == (
        order.number,
        "ready",
        True,
        "Ada Lovelace",
    )
    assert [(line["sku"], line["quantity"], line["picked"]) for line in shown["lines"]] == [
        ("T1", "2.000", "2.000"),
        ("H1", "1.000", "1.000"),
    ]


def test_a_prepaid_order_is_collected_at_once(shop, till):
    order = _ready(shop)

    collected = till("post", f"orders/{order.id}/collect")

    assert collected.status_code == 200, collected.json()
    assert (collected.json()["status"], collected.json()["sale_id"]) == ("collected", None)
    assert till("get", "orders/ready").json() == []


def test_a_not_prepaid_order_opens_a_sale_then_is_collected_once_paid(shop, till):
    # given a ready order the customer pays at the till
    order = _ready(shop, prepaid=False)

    # when the cashier collects it, a sale with its lines is opened on this terminal
    opened = till("post", f"orders/{order.id}/collect").json()
    assert opened["status"] == "ready"
    sale = till("get", f"sales/{opened['sale_id']}").json()
    assert [(line["description"], line["quantity"]) for line in sale["lines"]] == [
        ("Tea", "2.000"),
        ("Honey", "1.000"),
    ]

    # then collecting before it is paid is refused, and after paying it the order is collected
    early = till("post", f"orders/{order.id}/collect")
    assert (early.status_code, early.json()["code"]) == (409, "payment_pending")
    paid = till(
        "post", f"sales/{opened['sale_id']}/complete", {"tenders": [{"kind": "cash", "tendered": "20.00"}]}
    )
    assert paid.status_code == 200, paid.json()
    assert till("post", f"orders/{order.id}/collect").json()["status"] == "collected"


def test_an_unknown_order_is_a_clear_404(till):
    missing = till("post", f"orders/{uuid.uuid4()}/collect")

    assert (missing.status_code, missing.json()["code"]) == (404, "order_not_found")


def test_collecting_needs_a_terminal_session(shop):
    order = _ready(shop)

    refused = Client().post(f"/api/checkout/orders/{order.id}/collect")

    assert refused.status_code == 401
    assert PickupOrder.objects.get().status == "ready"
