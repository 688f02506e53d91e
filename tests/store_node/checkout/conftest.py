from decimal import Decimal

import pytest

from retail.catalog.models import Unit
from retail.staff.models import Role
from tests.factories import ean13, make_member, make_product, make_store, make_terminal, make_user


@pytest.fixture
def till(db, settings):
    """A store (the node's own), lane T02, a cashier, a supervisor, a manager, an open shift."""
    from retail.shifts.services import shift_open

    settings.PRICES_INCLUDE_TAX = True
    settings.CASH_ROUNDING_INCREMENT = "0.05"
    store = make_store(settings.STORE_CODE, name="Berlin Mitte", time_zone="Europe/Berlin")
    terminal = make_terminal(store, "T02")
    cashier = make_user(Role.CASHIER, store, pin="1111", username="c101", first_name="Cara")
    supervisor = make_user(Role.SUPERVISOR, store, pin="2222", username="s101")
    manager = make_user(Role.STORE_MANAGER, store, pin="3333", username="m101")
    shift = shift_open(terminal=terminal, cashier=cashier, opening_float=Decimal("100.00"))

    class Till:
        pass

    t = Till()
    t.store, t.terminal, t.cashier, t.supervisor, t.manager, t.shift = (
        store,
        terminal,
        cashier,
        supervisor,
        manager,
        shift,
    )
    return t


@pytest.fixture
def goods(db):
    """Milk 1.99 (STD 19 %), bread 3.50 (RED 7 %), bananas 1.99/kg weighed (scale item 01234)."""
    milk = make_product("1.99", name="Whole Milk 1 l", barcode="4006381333931", sku="100001")
    bread = make_product(
        "3.50", name="Rye Bread 500 g", tax="RED", rate="0.07", sku="100002", barcode=ean13("400000000001")
    )
    bananas = make_product(
        "1.99", name="Bananas", unit=Unit.KG, tax="RED", rate="0.07", sku="100003", barcode="01234"
    )
    return {"milk": milk, "bread": bread, "bananas": bananas}


@pytest.fixture
def member(db):
    return make_member(card_barcode="MBR100001", phone="+4915100000001", first_name="Anna", points_balance=0)


@pytest.fixture
def api(till, client):
    """A Django test client logged in on the till's terminal as the cashier."""
    response = client.post(
        "/api/checkout/terminal/login",
        {"terminal": "T02", "username": "c101", "pin": "1111"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    token = response.json()["token"]

    class Api:
        def post(self, path, data=None):
            return client.post(
                f"/api/checkout/{path}",
                data or {},
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Terminal {token}",
            )

        def get(self, path, **params):
            return client.get(f"/api/checkout/{path}", params, HTTP_AUTHORIZATION=f"Terminal {token}")

    return Api()
