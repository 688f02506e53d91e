"""The click-and-collect screens through Django's test client (pos_ui/views/orders.py)."""

import re
from decimal import Decimal

import pytest

from retail.outbox.models import Event
from retail.replication.appliers import ApplyContext, event_apply
from retail.shifts.services import shift_open
from store_node.orders.models import PickupOrder
from tests.store_node.orders.conftest import HONEY, TEA, placed_envelope

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(shop):
    event_apply(env=placed_envelope(shop), ctx=ApplyContext())
    return PickupOrder.objects.get()


@pytest.fixture
def client(client, shop):
    """The test client, signed in on the handheld as the shop's cashier (c101)."""
    response = client.post("/h/login", {"username": "c101", "pin": "1111"})
    assert response.status_code == 302
    return client


def _notes() -> dict[str, str]:
    events = Event.objects.filter(type="order.status_changed").order_by("seq")
    return {e.payload["status"]: e.payload["note"] for e in events}


def test_the_handheld_lists_orders_to_pick(client, order):
    response = client.get("/h/orders/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "W261123-ABC123" in html and "Ada Lovelace" in html and "To pick" in html


def test_the_pick_screen_scans_items_shows_progress_and_marks_ready(client, order):
    base = f"/h/orders/{order.id}/"
    # when the picker scans the three items
    for code in (TEA, TEA, HONEY):
        response = client.post(base + "scan", {"code": code})
        assert response.status_code == 200
    # then the screen shows the progress
    assert "3 of 3" in response.content.decode()

    # and marking ready goes back to the list, which no longer holds the order
    response = client.post(base + "ready")
    assert (response.status_code, response["Location"]) == (302, "/h/orders/")
    order.refresh_from_db()
    assert order.status == "ready"
    assert "No orders to pick." in client.get("/h/orders/").content.decode()
    # and head office is told who picked it and who marked it ready
    assert _notes() == {"routed": "received at the store", "picking": "by c101", "ready": "by c101"}


def test_scanning_a_product_not_in_the_order_shows_the_refusal(client, order, shop):
    response = client.post(f"/h/orders/{order.id}/scan", {"code": "A1"})

    assert response.status_code == 200
    assert "Apples is not in order W261123-ABC123" in response.content.decode()
    assert "0 of 3" in response.content.decode()


def test_marking_ready_too_early_is_refused_on_the_pick_screen(client, order):
    client.post(f"/h/orders/{order.id}/scan", {"code": TEA})

    response = client.post(f"/h/orders/{order.id}/ready")

    assert response.status_code == 200
    assert "still to pick: T1, H1" in response.content.decode()


def _login(client, shop):
    response = client.post(f"/t/{shop.terminal.id}/login", {"username": "c101", "pin": "1111"})
    assert response.status_code == 302


def _ready(client, order):
    for code in (TEA, TEA, HONEY):
        client.post(f"/h/orders/{order.id}/scan", {"code": code})
    client.post(f"/h/orders/{order.id}/ready")


def test_the_terminal_lists_ready_orders_and_collects_a_prepaid_one(client, order, shop):
    _login(client, shop)
    _ready(client, order)
    base = f"/t/{shop.terminal.id}/orders/"

    listing = client.get(base)
    assert listing.status_code == 200 and "W261123-ABC123" in listing.content.decode()

    response = client.post(base + f"{order.id}/collect")

    assert response.status_code == 200
    assert "Order W261123-ABC123 collected." in response.content.decode()
    order.refresh_from_db()
    assert order.status == "collected"
    assert _notes()["collected"] == "at T02 by c101"


def test_collecting_a_not_prepaid_order_opens_its_sale_on_the_till(client, shop):
    event_apply(env=placed_envelope(shop, prepaid=False), ctx=ApplyContext())
    order = PickupOrder.objects.get()
    _login(client, shop)
    _ready(client, order)
    shift_open(terminal=shop.terminal, cashier=shop.cashier, opening_float=Decimal("50.00"))

    response = client.post(f"/t/{shop.terminal.id}/orders/{order.id}/collect")

    assert (response.status_code, response["Location"]) == (302, f"/t/{shop.terminal.id}/sale/")
    sale_page = client.get(f"/t/{shop.terminal.id}/sale/").content.decode()
    assert "Tea" in sale_page and "Honey" in sale_page


def test_collecting_without_a_shift_shows_the_refusal(client, shop):
    event_apply(env=placed_envelope(shop, prepaid=False), ctx=ApplyContext())
    order = PickupOrder.objects.get()
    _login(client, shop)
    _ready(client, order)

    response = client.post(f"/t/{shop.terminal.id}/orders/{order.id}/collect")

    assert response.status_code == 409
    assert "Open a shift on this terminal before selling" in response.content.decode()


def _badge(html: str) -> tuple[str, str, bool]:
    ready = re.search(r'data-testid="badge-ready">(\d+)<', html).group(1)
    to_pick = re.search(r'data-testid="badge-to-pick">(\d+)<', html).group(1)
    hidden = bool(re.search(r'class="btn orders-badge[^"]*\bhidden\b', html))
    return ready, to_pick, hidden


def test_the_sale_screens_badge_counts_the_orders_waiting_when_it_loads(client, shop):
    # given a shift on the till, one order ready and one still to pick
    _login(client, shop)
    shift_open(terminal=shop.terminal, cashier=shop.cashier, opening_float=Decimal("50.00"))
    sale_url, badge_url = f"/t/{shop.terminal.id}/sale/", f"/t/{shop.terminal.id}/orders/badge"
    assert _badge(client.get(sale_url).content.decode()) == ("0", "0", True)
    event_apply(env=placed_envelope(shop, number="W1", seq=1), ctx=ApplyContext())
    event_apply(env=placed_envelope(shop, number="W2", seq=2), ctx=ApplyContext())
    _ready(client, PickupOrder.objects.get(number="W1"))

    # when the sale screen loads, then its badge shows 1 ready and 1 to pick, linking to the list
    html = client.get(sale_url).content.decode()
    assert _badge(html) == ("1", "1", False)
    assert f'href="/t/{shop.terminal.id}/orders/" data-orders-badge="{badge_url}"' in html

    # and once the ready one is collected, the badge the screen reloads says so
    client.post(f"/t/{shop.terminal.id}/orders/{PickupOrder.objects.get(number='W1').id}/collect")
    badge = client.get(badge_url, HTTP_HX_REQUEST="true")
    assert badge.status_code == 200 and "<html" not in badge.content.decode()
    assert _badge(badge.content.decode()) == ("0", "1", False)


def test_the_badge_needs_the_cashier_logged_in(client, shop):
    response = client.get(f"/t/{shop.terminal.id}/orders/badge")

    assert (response.status_code, response["Location"]) == (302, f"/t/{shop.terminal.id}/login")
