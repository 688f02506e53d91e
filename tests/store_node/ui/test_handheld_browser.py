"""The handheld flows in headless Chromium: sign-in, look-up, counting a shelf and a list, the camera."""

import re
import types
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from retail.outbox.models import Event
from retail.replication.appliers import ApplyContext, event_apply
from retail.stock.models import StockLevel, StockMovement
from retail.stock.services import stock_move
from store_node.orders.models import PickupOrder
from tests.factories import ean13, make_product, make_store
from tests.store_node.orders.conftest import placed_envelope
from tests.store_node.ui.conftest import handheld_browser_sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
TEA = ean13("400000000111")
HONEY = ean13("400000000112")


def test_handheld_lookup_and_count(ui, store, floor_staff):
    page = ui.page
    page.set_viewport_size(PHONE)
    # given a product stocked here and at another store
    milk = make_product("1.19", name="Alpenhof Whole Milk 1 l", barcode="4000000000013")
    make_product("0.89", name="Alpenhof Yoghurt 150 g", barcode="4000000000020")
    other = make_store("S02", name="Hamburg Altona")
    stock_move(store_id=store.id, product_id=milk.id, kind="receipt", quantity=Decimal("12"))
    stock_move(store_id=other.id, product_id=milk.id, kind="receipt", quantity=Decimal("30"))

    # the handheld asks who is there first; a wrong PIN is told, with the attempts left
    page.goto(f"{ui.url}/h/")
    expect(page).to_have_url(re.compile(r"/h/login\?next=%2Fh%2F$"))
    handheld_browser_sign_in(page, "c101", "1112")
    expect(page.get_by_test_id("login-message")).to_have_text("Wrong PIN for c101: 4 attempts left")
    ui.shot("00-sign-in-wrong-pin")
    handheld_browser_sign_in(page, "c101", "1111")
    expect(page.get_by_test_id("handheld-staff")).to_have_text("Cara Berg (c101)")

    # when floor staff scan the milk with the keyboard-wedge scanner on the look-up page
    expect(page).to_have_url(f"{ui.url}/h/")
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.type("4000000000013\n", delay=0)

    # then the card shows price, stock here and at S02 with its age
    card = page.get_by_test_id("lookup-product")
    expect(card).to_contain_text("Alpenhof Whole Milk 1 l")
    expect(page.get_by_test_id("lookup-price")).to_have_text("1.19")
    expect(page.get_by_test_id("on-hand-here")).to_have_text("12")
    expect(page.get_by_test_id("on-hand-elsewhere")).to_contain_text("S02 Hamburg Altona")
    expect(page.get_by_test_id("on-hand-elsewhere")).to_contain_text("30")
    ui.shot("01-lookup")

    # when they count the shelf: each wedge scan of the milk adds one, shown as the running count
    page.goto(f"{ui.url}/h/count/")
    expect(page.locator("[data-camera]")).to_be_hidden()  # no BarcodeDetector in this browser
    for n in (1, 2, 3):
        page.keyboard.type("4000000000013\n", delay=0)
        expect(page.get_by_test_id("count-message")).to_have_text(
            f"Alpenhof Whole Milk 1 l: {n} counted (+1)."
        )
    milk_count = page.get_by_test_id(f"counted-{milk.sku}")
    expect(milk_count).to_have_text("3")
    expect(page.locator("[data-testid='count-sheet'] tr.last")).to_contain_text("Alpenhof Whole Milk 1 l")
    expect(page.locator("#code")).to_be_focused()
    # and a count typed before the scan sets it: 10 milk; the yoghurt is not there at all (0)
    page.keyboard.press("F4")
    page.keyboard.type("10", delay=80)
    page.keyboard.type("4000000000013\n", delay=0)
    expect(page.get_by_test_id("count-message")).to_have_text("Alpenhof Whole Milk 1 l: 10 counted.")
    expect(milk_count).to_have_text("10")
    expect(page.locator("#counted")).to_have_value("")  # the next scan adds one again
    page.get_by_test_id("count-sheet").scroll_into_view_if_needed()
    ui.shot("02-count")
    page.keyboard.press("F4")
    page.keyboard.type("0", delay=80)
    page.keyboard.type("4000000000020\n", delay=0)
    expect(page.get_by_test_id("count-sheet")).to_contain_text("Alpenhof Yoghurt 150 g")
    expect(page.get_by_test_id("sheet-size")).to_have_text("2 products on the count sheet.")

    # then the review shows -2 against the book; the cashier may not post alone, and a supervisor
    # approves in place with their own staff number and PIN; posting moves the stock
    page.keyboard.press("F9")
    expect(page.get_by_test_id("count-review")).to_contain_text("-2")
    expect(page.get_by_test_id("count-approval")).to_be_visible()
    page.keyboard.press("F10")
    expect(page.get_by_test_id("count-message")).to_have_text(
        "posting a count needs the username and PIN of a supervisor or above"
    )
    page.fill("#approver", "s101")
    page.fill("#approver-pin", "2222")
    ui.shot("03-count-review")
    page.keyboard.press("F10")
    expect(page.get_by_test_id("count-posted")).to_contain_text("2 lines, 1 with a difference")
    expect(page.get_by_test_id("count-posted")).to_contain_text("Counted by c101, approved by s101.")
    assert StockLevel.objects.get(store=store, product=milk).on_hand == Decimal("10")

    # and signing out leaves the next person at the sign-in page
    page.get_by_test_id("sign-out").click()
    expect(page.get_by_test_id("login-message")).to_have_text("Signed out.")
    page.goto(f"{ui.url}/h/count/")
    expect(page.get_by_test_id("handheld-login")).to_be_visible()


def test_a_handheld_left_alone_goes_back_to_the_sign_in_by_itself(ui, store, floor_staff, settings):
    page = ui.page
    page.set_viewport_size(PHONE)
    settings.HANDHELD_IDLE_MINUTES = 0.05  # 3 seconds, for the test

    # given the cashier signed in on the pick list
    page.goto(f"{ui.url}/h/orders/")
    handheld_browser_sign_in(page, "c101", "1111")
    expect(page.get_by_test_id("handheld-staff")).to_have_text("Cara Berg (c101)")

    # when nobody touches it for longer than the idle time, then the page itself goes to the
    # sign-in, which says why, and the name of the last user is gone from the screen
    expect(page.get_by_test_id("login-message")).to_have_text(
        "Signed out after 3 seconds without use. Sign in again.", timeout=15_000
    )
    expect(page.get_by_test_id("handheld-staff")).to_have_count(0)
    ui.shot("01-signed-out-idle")

    # and signing in again goes back to the pick list
    handheld_browser_sign_in(page, "c101", "1111")
    expect(page).to_have_url(f"{ui.url}/h/orders/")


def test_count_from_a_product_list(ui, store, floor_staff):
    page = ui.page
    page.set_viewport_size(PHONE)
    # given the tuna shelf: 12 of the 200 g and 6 of the 400 g on the book, none of the one in oil;
    # and milk, which is not on this list
    tuna = [
        make_product(name="Nordsee Tuna 200 g", sku="FISH-1"),
        make_product(name="Nordsee Tuna 400 g", sku="FISH-2"),
        make_product(name="Nordsee Tuna in oil 200 g", sku="FISH-3"),
    ]
    milk = make_product(name="Alpenhof Whole Milk 1 l", sku="MILK-1")
    stock_move(store_id=store.id, product_id=tuna[0].id, kind="receipt", quantity=Decimal("12"))
    stock_move(store_id=store.id, product_id=tuna[1].id, kind="receipt", quantity=Decimal("6"))
    stock_move(store_id=store.id, product_id=milk.id, kind="receipt", quantity=Decimal("20"))

    # when the supervisor chooses "Count a list" and lists the tuna
    page.goto(f"{ui.url}/h/count/")
    handheld_browser_sign_in(page, "s101", "2222")
    page.get_by_role("link", name="Count a list").click()
    page.fill("#q", "tuna")
    page.keyboard.press("Enter")

    # then the list has the three tuna, blind (no book on a counting screen by default)
    listing = page.get_by_test_id("count-list")
    expect(page.get_by_test_id("count-list-size")).to_contain_text("3 products")
    expect(listing.locator("tr")).to_have_count(4)
    expect(listing).not_to_contain_text("Milk")
    expect(listing).not_to_contain_text("Book")
    expect(page.get_by_test_id("count-list-chosen")).to_have_text("List: “tuna” · Every product (change)")

    # when they type 10 for the 200 g, Enter (on to the next row), 0 for the 400 g, Enter, and
    # leave the one in oil blank
    rows = listing.locator("input[name=counted]")
    rows.nth(0).click()
    page.keyboard.type("10", delay=80)
    page.keyboard.press("Enter")
    expect(rows.nth(1)).to_be_focused()
    page.keyboard.type("0", delay=80)
    page.keyboard.press("Enter")
    expect(rows.nth(2)).to_be_focused()

    # then each row is kept as it is typed: its count shows, and the sheet holds two products
    expect(page.locator(f"#counted-{tuna[0].id}")).to_have_text("10")
    expect(page.locator(f"#counted-{tuna[1].id}")).to_have_text("0")
    expect(page.locator(f"#counted-{tuna[2].id}")).to_have_text("—")
    expect(page.get_by_test_id("sheet-size")).to_have_text("2 products on the count sheet.")
    # a count that is no whole number is refused on its row, and the one before stays
    rows.nth(0).fill("")
    rows.nth(0).click()
    page.keyboard.type("2.5", delay=80)
    page.keyboard.press("Enter")
    expect(listing.locator("[role=alert]")).to_have_text(
        "Nordsee Tuna 200 g is sold by the piece: the quantity must be a whole number, not 2.5."
    )
    expect(page.locator(f"#counted-{tuna[0].id}")).to_have_text("10")
    rows.nth(0).fill("")
    rows.nth(0).click()
    page.keyboard.type("10", delay=80)
    page.keyboard.press("Enter")
    expect(listing.locator("[role=alert]")).to_have_count(0)
    ui.shot("01-count-list")

    # and a reload shows the list as counted
    page.reload()
    expect(page.get_by_test_id("count-list").locator("input[name=counted]").nth(0)).to_have_value("10")
    expect(page.get_by_test_id("count-list").locator("input[name=counted]").nth(2)).to_have_value("")

    # when they review the differences (F9): two rows, -2 and -6; the blank row is not counted
    page.keyboard.press("F9")
    review = page.get_by_test_id("count-review")
    expect(review.locator("tr")).to_have_count(3)
    expect(review).to_contain_text("Nordsee Tuna 200 g")
    expect(review).not_to_contain_text("in oil")
    expect(review.locator(".diff-neg")).to_have_text(["-2", "-6"])
    ui.shot("02-count-list-review")

    # and post the count (F10), which a supervisor does without an approval
    page.keyboard.press("F10")
    expect(page.get_by_test_id("count-posted")).to_contain_text(
        "2 lines, 2 with a difference. Counted by s101."
    )

    # then each counted row is a count event against the book, and the stock moved to the counts
    counted = {
        e.payload["product_id"]: (e.payload["counted"], e.payload["book"], e.payload["difference"])
        for e in Event.objects.filter(type="stock.counted")
    }
    assert counted == {
        str(tuna[0].id): ("10", "12.000", "-2.000"),
        str(tuna[1].id): ("0", "6.000", "-6.000"),
    }
    assert {m.product_id: m.quantity for m in StockMovement.objects.filter(kind="count")} == {
        tuna[0].id: Decimal("-2"),
        tuna[1].id: Decimal("-6"),
    }
    assert StockLevel.objects.get(store=store, product=tuna[0]).on_hand == Decimal("10")
    assert StockLevel.objects.get(store=store, product=tuna[1]).on_hand == Decimal("0")
    assert StockLevel.objects.get(store=store, product=milk).on_hand == Decimal("20")


# A browser with BarcodeDetector and a camera (Chrome on Android): both stood in for by the page's
# own objects, the camera a blank canvas's stream, the detector reading the codes the test queues.
FAKE_CAMERA = """
window.__cameraCodes = [];
window.BarcodeDetector = class {
  async detect() {
    return window.__cameraCodes.length ? [{ rawValue: window.__cameraCodes.shift() }] : [];
  }
};
Object.defineProperty(navigator, "mediaDevices", {
  configurable: true,
  value: {
    async getUserMedia() {
      const canvas = Object.assign(document.createElement("canvas"), { width: 64, height: 48 });
      canvas.getContext("2d").fillRect(0, 0, 64, 48);
      return canvas.captureStream(10);
    },
  },
});
"""


def test_the_camera_scans_on_the_count_and_pick_pages_where_the_browser_has_it(ui, store, floor_staff):
    page = ui.page
    page.set_viewport_size(PHONE)
    page.add_init_script(FAKE_CAMERA)
    shop = types.SimpleNamespace(
        store=store,
        tea=make_product("2.50", sku="T1", name="Assam Tea 100 g", barcode=TEA),
        honey=make_product("4.00", sku="H1", name="Heather Honey 250 g", barcode=HONEY),
    )
    env = placed_envelope(shop, number="W261201-CAM001")
    ui.server.call(lambda: event_apply(env=env, ctx=ApplyContext()))

    # when the counter taps Camera on the count page and holds the tea to it, twice
    page.goto(f"{ui.url}/h/count/")
    handheld_browser_sign_in(page, "c101", "1111")
    camera = page.locator("[data-camera]")
    expect(camera).to_be_visible()
    for n in (1, 2):
        page.evaluate(f"window.__cameraCodes.push('{TEA}')")
        camera.click()
        # then each camera scan counts one, as a wedge scan does, and the camera view closes
        expect(page.get_by_test_id("count-message")).to_have_text(f"Assam Tea 100 g: {n} counted (+1).")
        expect(page.locator("[data-camera-view]")).to_be_hidden()

    # and on the pick screen a camera scan picks the item
    order = PickupOrder.objects.get(number="W261201-CAM001")
    page.goto(f"{ui.url}/h/orders/{order.id}/")
    expect(page.get_by_test_id("pick-progress")).to_have_text("0 of 3")
    page.evaluate(f"window.__cameraCodes.push('{HONEY}')")
    page.locator("[data-camera]").click()
    expect(page.get_by_test_id("pick-message")).to_have_text("Picked Heather Honey 250 g")
    expect(page.get_by_test_id("pick-progress")).to_have_text("1 of 3")
