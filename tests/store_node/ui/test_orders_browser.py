"""Click and collect in headless Chromium: picking on the handheld, collecting at the till, and the
terminal's order badge, against the live store node.

Orders are seeded as head office's ``order.placed`` is applied at the store (the applier, through
``ui.server.call`` so that its push after commit reaches the browsers as the sync worker's does).
"""

import types
import uuid
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from retail.replication.appliers import ApplyContext, event_apply
from retail.replication.wire import CLOUD_ORIGIN, Envelope
from retail.sales.models import Sale
from retail.shifts.services import shift_open
from store_node.orders.models import PickupOrder
from store_node.orders.services import order_mark_ready, order_pick_line
from tests.factories import ean13, make_product, make_terminal
from tests.store_node.orders.conftest import placed_envelope
from tests.store_node.ui.conftest import handheld_browser_sign_in as sign_in
from tests.store_node.ui.test_handheld_browser import PHONE

pytestmark = pytest.mark.browser

TEA = ean13("400000000101")
HONEY = ean13("400000000102")
JAM = ean13("400000000103")


@pytest.fixture
def shop(store, settings, floor_staff):
    """This node's store with lane T01 (a shift open), the cashier c101, tea, honey and jam."""
    settings.PRICES_INCLUDE_TAX = True
    settings.CASH_ROUNDING_INCREMENT = "0.05"
    terminal = make_terminal(store, "T01")
    shift_open(terminal=terminal, cashier=floor_staff["cashier"], opening_float=Decimal("100.00"))
    return types.SimpleNamespace(
        store=store,
        terminal=terminal,
        cashier=floor_staff["cashier"],
        tea=make_product("2.50", sku="T1", name="Assam Tea 100 g", barcode=TEA),
        honey=make_product("4.00", sku="H1", name="Heather Honey 250 g", barcode=HONEY),
        jam=make_product("3.20", sku="J1", name="Apricot Jam 340 g", barcode=JAM),
    )


def _place(ui, shop, number: str, *, prepaid: bool = True, seq: int = 1) -> PickupOrder:
    """Head office's order for 2 teas and 1 honey, applied at the store as the pull applies it."""
    env = placed_envelope(shop, number=number, prepaid=prepaid, seq=seq)
    ui.server.call(lambda: event_apply(env=env, ctx=ApplyContext()))
    return PickupOrder.objects.get(number=number)


def _ready(ui, order: PickupOrder) -> None:
    def pick():
        for code in (TEA, TEA, HONEY):
            order_pick_line(order_id=order.id, scan=code)
        order_mark_ready(order_id=order.id)

    ui.server.call(pick)


def _till_login(page, ui, shop) -> None:
    page.goto(f"{ui.url}/t/{shop.terminal.id}/")
    page.fill("#username", "c101")
    page.fill("#pin", "1111")
    page.keyboard.press("Enter")
    expect(page.locator("[data-scan-field]")).to_be_focused()


def test_picker_scans_each_item_and_marks_the_order_ready(ui, shop):
    page = ui.page
    page.set_viewport_size(PHONE)
    # given an order for 2 teas and 1 honey that has reached the store
    order = _place(ui, shop, "W261201-PICK01")

    # when the picker opens the pick list, signing in first
    page.goto(f"{ui.url}/h/orders/")
    sign_in(page, "c101", "1111")
    listing = page.get_by_test_id("orders-to-pick")
    expect(listing).to_contain_text("W261201-PICK01")
    expect(listing).to_contain_text("Ada Lovelace")
    expect(listing).to_contain_text("To pick")
    ui.shot("01-pick-list")

    # and scans the items with the wedge scanner on the pick screen
    page.get_by_role("link", name="W261201-PICK01").click()
    expect(page.get_by_test_id("pick-progress")).to_have_text("0 of 3")
    ready = page.get_by_role("button", name="Ready for collection")
    page.keyboard.type(TEA + "\n", delay=0)
    expect(page.get_by_test_id("pick-message")).to_have_text("Picked Assam Tea 100 g")
    expect(page.get_by_test_id("pick-progress")).to_have_text("1 of 3")
    expect(ready).to_be_disabled()
    # a product that is not in the order is refused, and nothing is counted for it
    page.keyboard.type(JAM + "\n", delay=0)
    expect(page.get_by_test_id("pick-message")).to_have_text(
        "Apricot Jam 340 g is not in order W261201-PICK01"
    )
    expect(page.get_by_test_id("pick-progress")).to_have_text("1 of 3")
    page.keyboard.type(TEA + "\n", delay=0)
    expect(page.get_by_test_id("pick-progress")).to_have_text("2 of 3")
    page.keyboard.type(HONEY + "\n", delay=0)
    expect(page.get_by_test_id("pick-progress")).to_have_text("3 of 3")
    expect(ready).to_be_enabled()
    ui.shot("02-pick")

    # then F9 marks it ready: the list no longer holds it, and the store knows who picked it
    page.keyboard.press("F9")
    expect(page).to_have_url(f"{ui.url}/h/orders/")
    expect(page.get_by_test_id("orders-to-pick")).to_contain_text("No orders to pick.")
    ui.shot("03-picked")
    order.refresh_from_db()
    assert order.status == "ready"
    assert list(order.lines.order_by("position").values_list("picked", flat=True)) == [
        Decimal("2.000"),
        Decimal("1.000"),
    ]


def test_cashier_collects_a_prepaid_order_and_takes_payment_for_another(ui, shop):
    page = ui.page
    # given two orders ready for collection, one paid online and one to pay at the till
    prepaid = _place(ui, shop, "W261201-PAID01", prepaid=True, seq=1)
    unpaid = _place(ui, shop, "W261201-TILL01", prepaid=False, seq=2)
    _ready(ui, prepaid)
    _ready(ui, unpaid)

    # when the cashier opens the collection list from the sale screen (Alt+O)
    _till_login(page, ui, shop)
    page.keyboard.press("Alt+O")
    listing = page.get_by_test_id("orders-ready")
    expect(listing).to_contain_text("W261201-PAID01")
    expect(listing).to_contain_text("W261201-TILL01")
    expect(listing).to_contain_text("pay at the till")
    ui.shot("01-collection-list")

    # then collecting the prepaid one (Alt+1) hands it over at once
    page.keyboard.press("Alt+1")
    expect(page.get_by_test_id("orders-message")).to_have_text("Order W261201-PAID01 collected.")
    expect(listing).not_to_contain_text("W261201-PAID01")
    ui.shot("02-collected")

    # and collecting the other opens a sale with its lines, which the cashier takes payment for
    page.keyboard.press("Alt+1")
    expect(page).to_have_url(f"{ui.url}/t/{shop.terminal.id}/sale/")
    lines = page.get_by_test_id("line")
    expect(lines).to_have_count(2)
    expect(lines.nth(0)).to_contain_text("Assam Tea 100 g")
    expect(lines.nth(0)).to_contain_text("5.00")
    expect(lines.nth(1)).to_contain_text("Heather Honey 250 g")
    expect(page.get_by_test_id("total")).to_have_text("9.00")
    ui.shot("03-order-sale")
    page.keyboard.press("End")
    expect(page.get_by_test_id("cash-due")).to_have_text("9.00")
    page.keyboard.press("F5")  # the exact cash
    expect(page.get_by_test_id("change-due")).to_have_text("0.00")
    sale = Sale.objects.get(pk=PickupOrder.objects.get(pk=unpaid.pk).sale_id)
    assert (sale.status, sale.total) == ("completed", Decimal("9.00"))

    # and back on the list, the order is paid ("in a sale") and Collect hands it over
    page.keyboard.press("F2")
    expect(page.locator("[data-scan-field]")).to_be_focused()
    page.keyboard.press("Alt+O")
    expect(listing).to_contain_text("in a sale")
    page.keyboard.press("Alt+1")
    expect(page.get_by_test_id("orders-message")).to_have_text("Order W261201-TILL01 collected.")
    expect(listing).to_contain_text("No orders ready.")
    assert sorted(PickupOrder.objects.values_list("status", flat=True)) == ["collected", "collected"]


def _badge(page, ready: int, to_pick: int) -> None:
    expect(page.get_by_test_id("badge-ready")).to_have_text(str(ready))
    expect(page.get_by_test_id("badge-to-pick")).to_have_text(str(to_pick))


def test_the_order_badge_counts_what_waits_at_load_and_follows_each_change(ui, shop):
    page = ui.page
    # given one order ready for collection and one still to pick before the screen opens
    first = _place(ui, shop, "W261201-BDG001", seq=1)
    second = _place(ui, shop, "W261201-BDG002", seq=2)
    _ready(ui, first)

    # when the cashier's sale screen loads, then its badge shows them
    _till_login(page, ui, shop)
    badge = page.get_by_test_id("orders-badge")
    expect(badge).to_be_visible()
    _badge(page, ready=1, to_pick=1)
    expect(page.get_by_test_id("link-state")).to_have_text("Till link: ok")
    ui.shot("01-badge-at-load")

    # and when a new order arrives over the sync (pushed on the till's WebSocket), it counts it
    _place(ui, shop, "W261201-BDG003", seq=3)
    _badge(page, ready=1, to_pick=2)

    # and when the handheld marks one ready, and head office cancels another, it follows
    _ready(ui, second)
    _badge(page, ready=2, to_pick=1)
    third = PickupOrder.objects.get(number="W261201-BDG003")
    cancelled = {
        "id": str(third.id),
        "number": third.number,
        "store_id": str(shop.store.id),
        "status": "cancelled",
        "at": "2026-12-01T10:00:00+00:00",
        "by": "cloud",
        "note": "",
    }
    cancel = Envelope(uuid.uuid4(), CLOUD_ORIGIN, 4, 4, "order.status_changed", 1, cancelled, 4)
    ui.server.call(lambda: event_apply(env=cancel, ctx=ApplyContext()))
    _badge(page, ready=2, to_pick=0)
    ui.shot("02-badge-after-changes")

    # and the scan field kept the focus throughout
    expect(page.locator("[data-scan-field]")).to_be_focused()


def test_the_badge_is_hidden_while_no_order_waits(ui, shop):
    page = ui.page

    _till_login(page, ui, shop)

    expect(page.get_by_test_id("orders-badge")).to_be_hidden()
    _place(ui, shop, "W261201-NEW001")
    expect(page.get_by_test_id("orders-badge")).to_be_visible()
    _badge(page, ready=0, to_pick=1)
