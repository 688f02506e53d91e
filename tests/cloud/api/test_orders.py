from decimal import Decimal

import pytest

from cloud.api.models import Order, OrderStatus
from cloud.api.orders import order_status_set
from retail.api_errors import DomainError
from retail.stock.services import stock_move
from tests.factories import make_member, make_product, make_store

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db):
    s1, s2 = make_store("S01"), make_store("S02")
    tea = make_product("2.50", sku="T1", name="Tea", rate="0.07", tax="RED")
    stock_move(store_id=s2.id, product_id=tea.id, kind="receipt", quantity=Decimal("3"))
    return s1, s2, tea


def _pickup(api, reference="o-1", quantity="2", store="S02", **extra):
    body = {
        "reference": reference,
        "fulfilment": "pickup",
        "store": store,
        "lines": [{"sku": "T1", "quantity": quantity}],
    }
    return api.post("/api/v1/orders", {**body, **extra}, format="json")


def test_a_pickup_order_is_priced_and_holds_its_stock_at_the_store(api, shop):
    # given 3 teas at S02 and a member
    make_member(number="M7")

    # when the shop places a pickup order for 2 at S02
    response = _pickup(api, member="M7")

    # then it is priced by the rounding rule, waits for the store, and 2 are held there
    assert response.status_code == 201
    order = response.json()
    assert (order["status"], order["status_text"]) == ("placed", "Placed, waiting for the store")
    assert (order["store"], order["member"], order["subtotal"], order["total"], order["tax_total"]) == (
        "S02",
        "M7",
        "5.00",
        "5.00",
        "0.33",
    )
    assert [(line["sku"], line["quantity"], line["line_total"]) for line in order["lines"]] == [
        ("T1", "2.000", "5.00")
    ]
    s2 = api.get("/api/v1/products/T1/availability?store=S02").json()["stores"][0]
    assert (s2["on_hand"], s2["reserved"], s2["status"]) == ("3.000", "2.000", "low")


def test_placing_the_same_reference_again_returns_the_same_order(api, shop):
    first, again = _pickup(api), _pickup(api)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["number"] == again.json()["number"]
    assert Order.objects.count() == 1


def test_an_order_beyond_what_is_not_held_is_refused(api, shop):
    # given 2 of the 3 teas held by a first order
    _pickup(api, reference="o-1")

    # when a second order wants 2 more, and one wants tea at a store without any
    second = _pickup(api, reference="o-2")
    elsewhere = _pickup(api, reference="o-3", quantity="1", store="S01")

    # then both are refused and nothing more is held
    assert (second.status_code, second.json()["code"], second.json()["skus"]) == (409, "out_of_stock", ["T1"])
    assert elsewhere.status_code == 409
    assert Order.objects.count() == 1


def test_a_cancelled_order_releases_its_stock_and_cannot_be_cancelled_twice(api, shop):
    number = _pickup(api).json()["number"]
    cancelled = api.post(f"/api/v1/orders/{number}/cancel")
    again = api.post(f"/api/v1/orders/{number}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    assert [h["status"] for h in cancelled.json()["history"]] == ["placed", "cancelled"]
    assert (again.status_code, again.json()["code"]) == (409, "status_refused")
    assert api.get("/api/v1/products/T1/availability?store=S02").json()["stores"][0]["reserved"] == "0.000"


def test_a_pickup_goes_through_picking_and_ready_and_only_its_store_collects_it(api, shop):
    number = _pickup(api).json()["number"]
    order = Order.objects.get(number=number)
    for status in (OrderStatus.PICKING, OrderStatus.READY):
        order_status_set(order=order, status=status)
    assert api.get(f"/api/v1/orders/{number}").json()["status"] == "ready"
    # head office cannot hand it over: the store's till does (it takes the goods off its stock)
    with pytest.raises(DomainError) as refused:
        order_status_set(order=order, status=OrderStatus.COLLECTED)
    assert refused.value.code == "collected_at_store"
    with pytest.raises(DomainError) as refused:
        order_status_set(order=order, status=OrderStatus.SHIPPED)
    assert refused.value.code == "status_refused"
    assert api.get(f"/api/v1/orders/{number}").json()["status"] == "ready"


@pytest.mark.parametrize(
    "body, code",
    [
        ({"fulfilment": "delivery"}, "address_required"),
        ({"store": "S99"}, "store_unknown"),
        ({"member": "nobody"}, "member_not_found"),
        ({"lines": [{"sku": "NOPE", "quantity": "1"}]}, "product_not_found"),
        ({"lines": [{"sku": "T1", "quantity": "0.5"}]}, "quantity"),
    ],
)
def test_bad_orders_are_refused_with_a_code(api, shop, body, code):
    base = {
        "reference": "o-9",
        "fulfilment": "pickup",
        "store": "S02",
        "lines": [{"sku": "T1", "quantity": "1"}],
    }
    response = api.post("/api/v1/orders", {**base, **body}, format="json")
    assert 400 <= response.status_code < 500 and response.json()["code"] == code
    assert not Order.objects.exists()


def test_a_delivery_order_is_priced_chain_wide_and_another_keys_orders_are_invisible(api, shop):
    from rest_framework.test import APIClient

    from cloud.api.services import api_key_create

    body = {
        "reference": "d-1",
        "fulfilment": "delivery",
        "address": "Main St 1",
        "postcode": "10115",
        "city": "Berlin",
        "lines": [{"sku": "T1", "quantity": "4"}],
    }
    order = api.post("/api/v1/orders", body, format="json").json()
    assert (order["store"], order["total"], order["status"]) == (None, "10.00", "placed")
    other = APIClient()
    other.credentials(HTTP_X_API_KEY=api_key_create(name="Marketplace")[1])
    assert other.get(f"/api/v1/orders/{order['number']}").status_code == 404


def test_a_placed_delivery_order_waits_to_be_shipped_not_for_a_store(api, shop):
    # given a delivery order (routed to no store) and a pickup order, both just placed
    body = {"address": "Main St 1", "postcode": "10115", "city": "Berlin", "fulfilment": "delivery"}
    delivery = api.post(
        "/api/v1/orders",
        {"reference": "d-1", "lines": [{"sku": "T1", "quantity": "1"}], **body},
        format="json",
    ).json()
    pickup = _pickup(api, reference="p-1").json()

    # when the shop reads them
    shown = {o["fulfilment"]: api.get(f"/api/v1/orders/{o['number']}").json() for o in (delivery, pickup)}

    # then each says what it waits for: the delivery to be shipped, the pickup for its store
    assert {kind: (o["status"], o["status_text"]) for kind, o in shown.items()} == {
        "delivery": ("placed", "Placed, waiting to be shipped"),
        "pickup": ("placed", "Placed, waiting for the store"),
    }
    # and once the delivery moves on, it reads as that status
    order_status_set(order=Order.objects.get(number=delivery["number"]), status=OrderStatus.PICKING)
    assert api.get(f"/api/v1/orders/{delivery['number']}").json()["status_text"] == "Being picked"
