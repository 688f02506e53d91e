from decimal import Decimal

import pytest

from hardware.simulators import reset_virtual_printers
from retail.staff.models import Role
from tests.factories import make_product, make_store, make_terminal, make_user
from tests.hardware.fake_printer import FakeEpsonPrinter


@pytest.fixture
def fast_queue(settings):
    """Backoff and polling in tens of milliseconds, so a printer outage takes a fraction of a second."""
    settings.PRINT_POLL_SECONDS = 0.02
    settings.PRINT_BACKOFF_SECONDS = 0.02
    settings.PRINT_BACKOFF_MAX_SECONDS = 0.1
    settings.PRINT_MAX_ATTEMPTS = 1000
    settings.DRAWER_POLL_SECONDS = 0.02
    return settings


@pytest.fixture
def fake_printer():
    printer = FakeEpsonPrinter()
    yield printer
    printer.close()


@pytest.fixture(autouse=True)
def _fresh_virtual_printers():
    reset_virtual_printers()
    yield
    reset_virtual_printers()


@pytest.fixture
def lane(db, settings):
    """This node's store, lane T01 on the virtual printer, a cashier with an open shift, and milk."""
    from retail.shifts.services import shift_open

    settings.PRICES_INCLUDE_TAX = True
    settings.CASH_ROUNDING_INCREMENT = "0.05"
    store = make_store(settings.STORE_CODE, name="Berlin Mitte", time_zone="Europe/Berlin")
    terminal = make_terminal(store, "T01", printer_address="virtual://lane1")
    cashier = make_user(Role.CASHIER, store, pin="1111", username="c101", first_name="Cara")
    shift_open(terminal=terminal, cashier=cashier, opening_float=Decimal("100.00"))
    milk = make_product("1.99", name="Whole Milk 1 l", barcode="4006381333931", sku="100001")

    class Lane:
        pass

    lane = Lane()
    lane.store, lane.terminal, lane.cashier, lane.milk = store, terminal, cashier, milk
    return lane


def sell_milk(lane, *, tendered: str = "5.00"):
    """One completed cash sale of a milk through the checkout services (which queue its receipt)."""
    from store_node.checkout.services.sales import sale_add_line, sale_open
    from store_node.checkout.services.tenders import sale_complete

    sale = sale_open(terminal=lane.terminal, cashier=lane.cashier)
    sale_add_line(sale_id=sale.id, terminal=lane.terminal, cashier=lane.cashier, scan="4006381333931")
    return sale_complete(
        sale_id=sale.id,
        terminal=lane.terminal,
        cashier=lane.cashier,
        tenders=[{"kind": "cash", "tendered": tendered}],
    )
