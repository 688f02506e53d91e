"""The handheld flows in headless Chromium: sign-in, look-up, count."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from retail.stock.models import StockLevel
from retail.stock.services import stock_move
from tests.factories import make_product, make_store
from tests.store_node.ui.conftest import handheld_browser_sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


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

    # when they count the shelf: scan the milk, type 10; scan the yoghurt, type 0
    page.goto(f"{ui.url}/h/count/")
    page.keyboard.type("4000000000013\n", delay=0)
    expect(page.locator("#counted")).to_be_focused()
    page.keyboard.type("10\n", delay=80)
    expect(page.get_by_test_id("count-message")).to_have_text("Alpenhof Whole Milk 1 l: 10 counted.")
    expect(page.locator("#code")).to_be_focused()
    page.keyboard.type("4000000000020\n", delay=0)
    page.keyboard.type("0\n", delay=80)
    expect(page.get_by_test_id("count-sheet")).to_contain_text("Alpenhof Yoghurt 150 g")
    ui.shot("02-count")

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
