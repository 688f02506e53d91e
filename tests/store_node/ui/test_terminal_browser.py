"""The cashier's day in headless Chromium, against the live store node with its device runtime:
log in, open a shift, ring a sale by wedge scan, serial scan (pty scanner), search, a weighed item
and a discount, attach a member, pay split card + cash, see the receipt preview and the drawer
kick, return one line, close the shift and check the Z report on screen."""

import re
import time
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from hardware.simulators import VirtualSerialScanner, reset_virtual_printers, virtual_printer
from retail.catalog.models import Unit
from retail.sales.models import Sale, SaleLine
from retail.staff.models import Role
from store_node.devices.models import DrawerKick, PrintJob
from tests.factories import ean13, make_member, make_product, make_terminal, make_user

pytestmark = pytest.mark.browser

MILK = "4006381333931"
BREAD = ean13("400000000001")
BANANAS_750G = ean13("210123400750")


@pytest.fixture
def lane(store, settings, tmp_path, till_server):
    """Lane T01 with a pty serial scanner and a virtual printer, served by the device runtime."""
    from store_node.devices.runtime import DeviceRuntime

    settings.PRICES_INCLUDE_TAX = True
    settings.CASH_ROUNDING_INCREMENT = "0.05"
    for name in ("PRINT_POLL_SECONDS", "PRINT_BACKOFF_SECONDS", "DRAWER_POLL_SECONDS"):
        setattr(settings, name, 0.05)
    scanner = VirtualSerialScanner(tmp_path)
    terminal = make_terminal(
        store, "T01", printer_address="virtual://ui-lane", scanner_address=scanner.address()
    )
    make_user(Role.CASHIER, store, pin="1111", username="c101", first_name="Cara")
    make_user(Role.SUPERVISOR, store, pin="2222", username="s101")
    make_product("1.99", name="Whole Milk 1 l", barcode=MILK, sku="100001")
    make_product("3.50", name="Rye Bread 500 g", tax="RED", rate="0.07", sku="100002", barcode=BREAD)
    make_product("1.99", name="Bananas", unit=Unit.KG, tax="RED", rate="0.07", sku="100003", barcode="01234")
    make_member(card_barcode="MBR100001", first_name="Anna", last_name="Berg", points_balance=120)
    runtime = DeviceRuntime(loop=till_server.loop, store_code=store.code, devices_dir=tmp_path / "devices")
    runtime.start()
    yield terminal, scanner
    runtime.stop()
    scanner.close()
    reset_virtual_printers()


def _eventually(read, want="printed", seconds=5.0):
    """What ``read()`` gives once it equals ``want`` (the print worker runs on its own thread), or at the deadline."""
    deadline = time.monotonic() + seconds
    value = read()
    while value != want and time.monotonic() < deadline:
        time.sleep(0.05)
        value = read()
    return value


def _rows(page):
    return page.get_by_test_id("line")


def _ring(page, code):
    """Ring an item as typed into the scan field (a "given" step: a wedge scan's timing is what
    the cashier's test above is about, and on a loaded machine a slow key can split a scan)."""
    page.locator("[data-scan-field]").fill(code)
    page.keyboard.press("Enter")


def _ready(page):
    """Wait for the page's script (terminal.js) to take input: keys typed before it are the
    browser's alone (a wedge scan into a bare form, shortcuts that do nothing)."""
    page.wait_for_function("document.body.dataset.ready === '1'")


# Whether the element itself is what a touch at its centre reaches (nothing over it, not clipped).
_UNCOVERED = """el => {
  const r = el.getBoundingClientRect();
  const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
  return hit !== null && (hit === el || el.contains(hit));
}"""


def test_cashier_rings_pays_returns_and_closes_the_shift(ui, lane):
    page = ui.page
    terminal, scanner = lane

    # log in with the PIN
    page.goto(f"{ui.url}/t/{terminal.id}/")
    page.fill("#username", "c101")
    page.click("[data-pinpad] [data-key='1']")
    page.keyboard.type("111")  # the PIN pad put the focus in the PIN field
    ui.shot("01-login")
    page.keyboard.press("Enter")

    # open the shift with a float of 100.00
    page.fill("#opening_float", "100.00")
    page.keyboard.press("F10")
    scan = page.locator("[data-scan-field]")
    expect(scan).to_be_focused()
    expect(page.get_by_test_id("link-state")).to_have_text("Till link: ok")

    # keyboard-wedge scan (fast keys + Enter)
    page.keyboard.type(MILK + "\n", delay=0)
    expect(_rows(page)).to_have_count(1)
    expect(_rows(page).nth(0)).to_contain_text("Whole Milk 1 l")
    expect(scan).to_have_value("")

    # the multiplier: typed by a person into the quantity field, then a wedge scan, which must not land there
    page.keyboard.press("F4")
    page.keyboard.type("2", delay=120)
    page.keyboard.type(BREAD + "\n", delay=0)
    expect(_rows(page)).to_have_count(2)
    expect(_rows(page).nth(1)).to_contain_text("Rye Bread 500 g")
    expect(_rows(page).nth(1)).to_contain_text("7.00")
    expect(page.locator("[data-qty-field]")).to_have_value("")
    expect(scan).to_have_value("")

    # serial scan from the pty scanner, through the device runtime and the terminal's WebSocket
    scanner.scan(MILK)
    expect(_rows(page)).to_have_count(3)
    expect(_rows(page).nth(2)).to_contain_text("Whole Milk 1 l")
    expect(scan).to_have_value("")

    # search by name, typed like a person, picked with Alt+1
    page.keyboard.type("bananas", delay=60)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("search-results")).to_contain_text("Bananas")
    expect(scan).to_have_value("")
    # the weight typed at once after Alt+1, before the weight field has come: no key may go astray
    page.keyboard.press("Alt+1")
    page.keyboard.type("0.5", delay=0)
    page.keyboard.press("Enter")
    expect(_rows(page)).to_have_count(4)
    expect(_rows(page).nth(3)).to_contain_text("Bananas")
    assert SaleLine.objects.get(sale__status="open", position=4).quantity == Decimal("0.500")
    expect(scan).to_have_value("")
    expect(scan).to_be_focused()

    # a weighed item from its scale label, scanned after a stray key in the scan field: the scan
    # takes the field with it
    page.keyboard.type("7")
    page.wait_for_timeout(200)  # a person's key, not the start of the scan
    page.keyboard.type(BANANAS_750G + "\n", delay=0)
    expect(_rows(page)).to_have_count(5)
    expect(_rows(page).nth(4)).to_contain_text("0.75")
    expect(scan).to_have_value("")

    # 10 % off the bread: arrow up to it, F6
    for _ in range(3):
        page.keyboard.press("ArrowUp")
    expect(_rows(page).nth(1)).to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press("F6")
    page.keyboard.type("10", delay=60)
    page.keyboard.press("Enter")
    expect(_rows(page).nth(1)).to_contain_text("6.30")

    # void the third line with a supervisor's PIN in place
    page.keyboard.press("ArrowDown")
    page.keyboard.press("F8")
    page.fill("#action-username", "s101")
    page.fill("#action-pin", "2222")
    page.keyboard.press("Enter")
    expect(_rows(page).nth(2)).to_have_class(re.compile(r"\bvoided\b"))

    # the member's card
    page.keyboard.type("MBR100001\n", delay=0)
    expect(page.get_by_test_id("member")).to_contain_text("Anna Berg")
    expect(scan).to_have_value("")
    # an unknown barcode: a clear message, the sale intact
    page.keyboard.type(ean13("400000000009") + "\n", delay=0)
    expect(page.get_by_test_id("message")).to_contain_text("No product with barcode")
    expect(_rows(page)).to_have_count(5)
    sale = Sale.objects.get(status="open")
    total = sale.total
    expect(page.get_by_test_id("total")).to_have_text(f"{total}")
    # the Pay button is on screen at 1366x768 with a member and a message, not scrolled away
    pay = page.get_by_role("link", name=re.compile(r"^Pay "))
    expect(pay).to_be_in_viewport(ratio=1)
    assert pay.evaluate(_UNCOVERED)
    ui.shot("02-sale")
    page.keyboard.press("F1")
    expect(page.locator("#help")).to_contain_text("Void the selected line (supervisor)")
    ui.shot("03-help")
    page.keyboard.press("Escape")

    # pay: 5.00 by card, the rest in cash (exact amount, F5)
    page.keyboard.press("End")
    expect(page.get_by_test_id("total")).to_have_text(f"{total}")
    page.fill("#card-amount", "5.00")
    page.fill("#card-ref", "A1B2C3")
    _ready(page)
    page.keyboard.press("F9")
    expect(page.get_by_test_id("non-cash-paid")).to_have_text("5.00")
    ui.shot("04-tender")
    page.keyboard.press("F5")

    # the receipt: change, preview, drawer kicked by the device runtime, receipt printed
    expect(page.get_by_test_id("change-due")).to_have_text("0.00")
    sale.refresh_from_db()
    assert sale.status == "completed"
    expect(page.get_by_test_id("receipt-preview")).to_contain_text(sale.receipt_number)
    # the kick is done before or after this page loaded: the page or the WebSocket says so
    expect(page.get_by_test_id("drawer-kick")).to_have_text("Drawer: opened")
    page.wait_for_function("document.querySelector('[data-printer-state]').textContent.includes('ready')")
    ui.shot("05-receipt")
    assert DrawerKick.objects.get(reason="sale").status == "done"
    assert _eventually(lambda: PrintJob.objects.get(kind="receipt").status) == "printed"

    # return one milk by scanning the receipt's barcode on the sale screen
    page.keyboard.press("F2")
    expect(scan).to_be_focused()
    _ready(page)
    page.keyboard.type(sale.receipt_number + "\n", delay=0)
    expect(page.get_by_test_id("return-line")).to_have_count(4)  # not the voided line
    page.get_by_label("Return how many Whole Milk 1 l").first.fill("1")
    page.select_option("#refund_to", "cash")
    ui.shot("06-return")
    page.keyboard.press("F10")
    expect(page.get_by_test_id("refund")).to_contain_text("-1.99")

    # close the shift with the cash count, and read the Z report
    page.keyboard.press("F2")
    expect(scan).to_be_focused()
    _ready(page)
    page.keyboard.press("Alt+Z")
    cash_in = Decimal(Sale.objects.get(pk=sale.id).tenders.get(kind="cash").amount)
    page.get_by_label("How many 100.00").fill("1")
    page.get_by_label("How many 5.00").fill("1")
    page.keyboard.press("F10")
    report = page.get_by_test_id("report")
    expect(report).to_contain_text("Z report")
    expect(page.get_by_test_id("sales-count")).to_have_text("1")
    expect(page.get_by_test_id("sales-total")).to_have_text(f"{total}")
    expect(page.get_by_test_id("returns-total")).to_have_text("-1.99")
    expect(page.get_by_test_id("tender-card")).to_have_text("5.00")
    expected = Decimal("100.00") + cash_in - Decimal("2.00")
    expect(page.get_by_test_id("expected-cash")).to_have_text(f"{expected}")
    expect(page.get_by_test_id("counted-cash")).to_have_text("105.00")
    expect(page.get_by_test_id("over-short")).to_have_text(f"{Decimal('105.00') - expected}")
    ui.shot("07-z-report")


def _log_in(page, ui, terminal, *, username="c101", pin="1111"):
    """The PIN login; then the shift is opened (with a float of 100.00) unless one is open."""
    page.goto(f"{ui.url}/t/{terminal.id}/")
    page.fill("#username", username)
    page.fill("#pin", pin)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/(shift/open|sale/)$"))
    if page.url.endswith("/shift/open"):
        page.fill("#opening_float", "100.00")
        page.keyboard.press("F10")
    expect(page.locator("[data-scan-field]")).to_be_focused()
    _ready(page)


def test_the_status_bar_refresh_keeps_what_the_till_link_told_it(ui, lane):
    page = ui.page
    terminal, _ = lane
    # given a till whose link is up and whose drawer was reported open over it
    page.clock.install()
    _log_in(page, ui, terminal)
    expect(page.get_by_test_id("link-state")).to_have_text("Till link: ok")
    ui.server.group_send(f"terminal-{terminal.id.hex}", {"type": "terminal.drawer", "event": "opened"})
    expect(page.get_by_test_id("drawer-state")).to_have_text("Drawer open")
    page.evaluate("document.getElementById('statusbar').dataset.before = 'poll'")

    # when the status bar is polled (every 20 s) and swapped for the server's
    page.clock.fast_forward("00:21")
    expect(page.locator("#statusbar:not([data-before])")).to_have_count(1)

    # then it still says what the link said, not "connecting", and the drawer is still open
    expect(page.get_by_test_id("link-state")).to_have_text("Till link: ok")
    expect(page.get_by_test_id("link-state")).to_have_class(re.compile(r"\bok\b"))
    expect(page.get_by_test_id("drawer-state")).to_be_visible()
    expect(page.get_by_test_id("drawer-state")).to_have_text("Drawer open")


def test_a_member_card_scanned_at_payment_attaches_the_member_and_anything_else_says_why_not(ui, lane):
    page = ui.page
    terminal, _ = lane
    # given a sale of one milk on the payment screen
    _log_in(page, ui, terminal)
    _ring(page, MILK)
    expect(_rows(page)).to_have_count(1)
    page.keyboard.press("End")
    expect(page.get_by_test_id("cash-due")).to_have_text("2.00")
    _ready(page)
    tender_url = page.url

    # when the customer hands over their member card and it is scanned there
    page.keyboard.type("MBR100001\n", delay=0)

    # then the member is on the sale and their points can pay, still on the payment screen
    expect(page.get_by_test_id("points")).to_contain_text("Anna Berg")
    assert page.url == tender_url
    assert Sale.objects.get(status="open").member.card_barcode == "MBR100001"

    # and a product scanned there is not lost silently: the screen says where it goes
    page.keyboard.type(BREAD + "\n", delay=0)
    expect(page.get_by_test_id("message")).to_contain_text("Esc to add items")
    ui.shot("tender-scan")
    assert SaleLine.objects.filter(sale__status="open").count() == 1
    page.keyboard.press("Escape")
    expect(_rows(page)).to_have_count(1)


def test_remove_pressed_twice_or_on_a_stale_payment_screen_never_fails(ui, lane):
    page = ui.page
    terminal, _ = lane
    server_errors = []
    page.context.on("response", lambda r: server_errors.append(r.url) if r.status >= 500 else None)
    # given a sale of one milk on the payment screen with 1.00 cash handed over
    _log_in(page, ui, terminal)
    _ring(page, MILK)
    expect(_rows(page)).to_have_count(1)
    page.keyboard.press("End")
    page.fill("#cash-amount", "1.00")
    page.keyboard.press("Enter")
    remove = page.get_by_test_id("tenders").get_by_role("button", name="Remove")
    expect(remove).to_have_count(1)

    # when Remove is double-clicked
    remove.dblclick()

    # then the payment screen is back without that payment
    expect(page.get_by_test_id("tenders")).to_contain_text("None yet.")
    expect(page.locator("h1")).to_have_text("Payment")

    # given the payment screen open in a second tab with a payment on it, and the sale paid in the first
    page.fill("#cash-amount", "1.00")
    page.keyboard.press("Enter")
    expect(remove).to_have_count(1)
    stale = page.context.new_page()
    assert page.url.endswith("/tender/")  # not tender/add: a reload must not hand over the cash again
    stale.goto(page.url)
    page.fill("#cash-amount", "1.00")  # the rest
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("change-due")).to_have_text("0.00")
    paid = list(Sale.objects.get().tenders.values_list("id", "amount"))

    # when Remove is pressed on the stale screen
    stale.get_by_test_id("tenders").get_by_role("button", name="Remove").click()

    # then the sale screen says nothing was removed, and the paid sale keeps its payments
    expect(stale.get_by_test_id("message")).to_have_text("No sale is open: that payment was not removed.")
    sale = Sale.objects.get()
    assert sale.status == "completed"
    assert list(sale.tenders.values_list("id", "amount")) == paid
    assert server_errors == []


PAPER_OUT = "Sale saved — reload paper, then Reprint (F9)"


def test_a_printer_out_of_paper_says_what_to_do_and_the_sale_is_saved(ui, lane):
    page = ui.page
    terminal, _ = lane
    printer = virtual_printer("ui-lane")
    # given a sale of one milk, and a printer that has just run out of paper
    _log_in(page, ui, terminal)
    _ring(page, MILK)
    expect(_rows(page)).to_have_count(1)
    printer.run_out_of_paper()

    # when the sale is paid in cash
    page.keyboard.press("End")
    expect(page.get_by_test_id("cash-due")).to_have_text("2.00")
    _ready(page)
    page.keyboard.press("F5")

    # then the receipt screen says the sale is saved and what to do, and the sale is complete and whole
    expect(page.get_by_test_id("change-due")).to_have_text("0.00")
    expect(page.get_by_test_id("print-problem")).to_have_text(PAPER_OUT)
    sale = Sale.objects.get()
    assert sale.status == "completed"
    assert list(sale.lines.values_list("description", "quantity")) == [("Whole Milk 1 l", Decimal("1.000"))]
    assert sale.total == Decimal("1.99")
    expect(page.locator("h1")).to_contain_text(sale.receipt_number)
    expect(page.get_by_test_id("receipt-preview")).to_contain_text(sale.receipt_number)
    ui.shot("receipt-paper-out")
    assert PrintJob.objects.get(kind="receipt").status != "printed"
    # and it still says so when the screen is loaded again
    page.reload()
    expect(page.get_by_test_id("print-problem")).to_have_text(PAPER_OUT)
    _ready(page)

    # when the paper is reloaded and Reprint pressed
    printer.come_back()
    with page.expect_navigation():
        page.keyboard.press("F9")

    # then the receipt prints, once: the original, not a copy beside it
    assert _eventually(lambda: PrintJob.objects.get(kind="receipt").status) == "printed"
    assert not PrintJob.objects.filter(kind="reprint").exists()
    assert len([job for job in printer.jobs if sale.receipt_number.encode() in job]) == 1
    page.reload()
    expect(page.get_by_test_id("print-state")).to_have_text("Receipt: printed")
    expect(page.get_by_test_id("print-problem")).to_have_count(0)


def test_lock_returns_to_the_pin_login_and_the_open_sale_waits_for_the_next_login(ui, lane):
    page = ui.page
    terminal, _ = lane
    # given a sale of one milk rung by c101
    _log_in(page, ui, terminal)
    _ring(page, MILK)
    expect(_rows(page)).to_have_count(1)

    # when the cashier locks the till with its shortcut
    page.keyboard.press("Alt+L")

    # then the PIN login is back, and the till is no longer c101's
    expect(page.get_by_test_id("login")).to_be_visible()
    page.goto(f"{ui.url}/t/{terminal.id}/sale/")
    expect(page.get_by_test_id("login")).to_be_visible()

    # when the next person logs in on this terminal, the sale is there to finish
    _log_in(page, ui, terminal, username="s101", pin="2222")
    expect(_rows(page)).to_have_count(1)
    expect(_rows(page).nth(0)).to_contain_text("Whole Milk 1 l")
    expect(page.get_by_test_id("cashier")).not_to_contain_text("Cara")
    assert Sale.objects.get().status == "open"


def test_a_weight_typed_right_after_scanning_a_product_sold_by_weight_goes_into_the_weight(ui, lane):
    page = ui.page
    terminal, _ = lane
    scan = page.locator("[data-scan-field]")
    _log_in(page, ui, terminal)

    # when the bananas' own barcode (no weight on it) is scanned and the weight typed at once
    page.keyboard.type("01234\n", delay=0)
    page.keyboard.type("1.5", delay=0)
    page.keyboard.press("Enter")

    # then 1.5 kg is sold, and nothing is left over in the scan field
    expect(_rows(page)).to_have_count(1)
    expect(_rows(page).nth(0)).to_contain_text("Bananas")
    assert SaleLine.objects.get().quantity == Decimal("1.500")
    expect(scan).to_have_value("")
    expect(page.get_by_test_id("weigh")).to_have_count(0)
