from decimal import Decimal

import pytest

from retail.catalog.models import Product, Unit
from retail.sales.models import Sale, SaleLine
from retail.staff.models import Role
from store_node.devices.models import DrawerKick, PrintJob
from tests.factories import ean13, make_member, make_product, make_store, make_terminal, make_user

MILK = "4006381333931"
BREAD = ean13("400000000001")


@pytest.fixture
def lane(db, settings, client):
    """This node's store, lane T02, a cashier logged in on it (PIN 1111), a supervisor, three products."""
    settings.PRICES_INCLUDE_TAX = True
    settings.CASH_ROUNDING_INCREMENT = "0.05"
    store = make_store(settings.STORE_CODE, name="Berlin Mitte", time_zone="Europe/Berlin")
    terminal = make_terminal(store, "T02")
    make_user(Role.CASHIER, store, pin="1111", username="c101", first_name="Cara")
    make_user(Role.SUPERVISOR, store, pin="2222", username="s101")
    make_product("1.99", name="Whole Milk 1 l", barcode=MILK, sku="100001")
    make_product("3.50", name="Rye Bread 500 g", tax="RED", rate="0.07", sku="100002", barcode=BREAD)
    make_product("1.99", name="Bananas", unit=Unit.KG, tax="RED", rate="0.07", sku="100003", barcode="01234")
    base = f"/t/{terminal.id}/"
    response = client.post(base + "login", {"username": "c101", "pin": "1111"})
    assert response.status_code == 302

    class Lane:
        pass

    lane = Lane()
    lane.terminal, lane.base, lane.client = terminal, base, client
    lane.post = lambda path, data=None, **kw: client.post(base + path, data or {}, **kw)
    lane.get = lambda path, data=None: client.get(base + path, data or {})
    return lane


@pytest.fixture
def shift(lane):
    assert lane.post("shift/open", {"opening_float": "100.00"}).status_code == 302
    return lane


def _lines():
    return list(
        SaleLine.objects.order_by("position").values_list("description", "quantity", "line_total", "voided")
    )


def test_without_a_login_the_terminal_asks_for_the_pin(db, settings, client):
    terminal = make_terminal(make_store(settings.STORE_CODE))

    response = client.get(f"/t/{terminal.id}/sale/")

    assert response.status_code == 302
    assert response["Location"] == f"/t/{terminal.id}/login"


def test_a_wrong_pin_is_shown_on_the_login_screen(db, settings, client):
    store = make_store(settings.STORE_CODE)
    terminal = make_terminal(store)
    make_user(Role.CASHIER, store, pin="1111", username="c9")

    html = client.post(f"/t/{terminal.id}/login", {"username": "c9", "pin": "9999"}).content.decode()

    assert "Wrong PIN for c9: 4 attempts left" in html


def test_a_terminal_of_another_store_is_not_found(db, client):
    terminal = make_terminal(make_store("X99"))

    assert client.get(f"/t/{terminal.id}/login").status_code == 404


def test_login_then_open_shift_then_the_sale_screen(lane):
    assert lane.get("")["Location"] == lane.base + "shift/open"

    response = lane.post("shift/open", {"opening_float": "150.00"})

    assert response["Location"] == lane.base + "sale/"
    html = lane.get("sale/").content.decode()
    assert 'data-scan-url="' + lane.base + 'sale/scan"' in html
    assert "Scan the first item." in html
    assert DrawerKick.objects.filter(terminal=lane.terminal, reason="no_sale").count() == 1


def test_scans_with_a_multiplier_and_a_weight_make_lines_and_totals(shift):
    # given a sale rung by scan: 3 x milk, bread, and bananas weighed at 0.750 kg
    shift.post("sale/scan", {"code": MILK, "qty": "3"})
    shift.post("sale/scan", {"code": BREAD})
    weigh = shift.post("sale/scan", {"code": ean13("210123400750")}).content.decode()

    # then the lines and totals are the checkout's figures
    assert _lines() == [
        ("Whole Milk 1 l", Decimal("3.000"), Decimal("5.97"), False),
        ("Rye Bread 500 g", Decimal("1.000"), Decimal("3.50"), False),
        ("Bananas", Decimal("0.750"), Decimal("1.49"), False),
    ]
    assert 'data-testid="total">10.96<' in weigh


def test_a_weighed_item_without_a_label_weight_asks_for_it_and_adds_it(shift):
    html = shift.post("sale/scan", {"code": "100003"}).content.decode()
    assert "Weigh Bananas: enter its weight in kg" in html
    assert 'data-testid="weigh"' in html

    product_id = Product.objects.get(sku="100003").id
    shift.post("sale/add", {"product_id": product_id, "qty": "1.200"})

    assert _lines() == [("Bananas", Decimal("1.200"), Decimal("2.39"), False)]


def test_unknown_barcode_says_so_and_keeps_the_sale(shift):
    shift.post("sale/scan", {"code": MILK})

    html = shift.post("sale/scan", {"code": ean13("400000000009")}).content.decode()

    assert f"No product with barcode {ean13('400000000009')}" in html
    assert _lines() == [("Whole Milk 1 l", Decimal("1.000"), Decimal("1.99"), False)]
    assert 'data-testid="total">1.99<' in html


def test_typing_a_name_offers_the_matching_products(shift):
    html = shift.post("sale/scan", {"code": "rye"}).content.decode()

    assert "Pick the product for “rye”:" in html
    assert "Rye Bread 500 g" in html
    assert _lines() == []


def test_void_needs_a_supervisor_pin_in_place(shift):
    shift.post("sale/scan", {"code": MILK})
    line = SaleLine.objects.get()

    refused = shift.post(f"sale/line/{line.id}/void", {"username": "c101", "pin": "1111"}).content.decode()
    assert "c101 may not approve" in refused
    shift.post(f"sale/line/{line.id}/void", {"username": "s101", "pin": "2222"})

    assert _lines() == [("Whole Milk 1 l", Decimal("1.000"), Decimal("0.00"), True)]


def test_line_discount_percent(shift):
    shift.post("sale/scan", {"code": BREAD})
    line = SaleLine.objects.get()

    html = shift.post(f"sale/line/{line.id}/discount", {"value": "10"}).content.decode()

    assert _lines() == [("Rye Bread 500 g", Decimal("1.000"), Decimal("3.15"), False)]
    assert 'data-testid="discount-total">-0.35<' in html


def test_member_card_scan_attaches_the_member(shift):
    make_member(card_barcode="MBR100001", first_name="Anna", points_balance=250)
    shift.post("sale/scan", {"code": MILK})

    html = shift.post("sale/scan", {"code": "MBR100001"}).content.decode()

    assert "Anna" in html
    assert "250 points" in html
    assert Sale.objects.get().member.first_name == "Anna"


def test_split_cash_and_card_completes_with_change_receipt_and_drawer(shift):
    shift.post("sale/scan", {"code": MILK, "qty": "2"})  # 3.98
    shift.post("tender/add", {"kind": "card", "amount": "2.00", "reference": "A1B2"})
    still = shift.get("tender/").content.decode()
    assert 'data-testid="cash-due">2.00<' in still

    done = shift.post("tender/add", {"kind": "cash", "amount": "5.00"})

    sale = Sale.objects.get()
    assert done["Location"] == f"{shift.base}receipt/{sale.id}/"
    assert sale.status == "completed"
    receipt = shift.get(f"receipt/{sale.id}/").content.decode()
    assert 'data-testid="change-due">3.00<' in receipt
    assert sale.receipt_number in receipt
    assert "Drawer: opening" in receipt
    assert PrintJob.objects.filter(kind="receipt").count() == 1


def test_a_declined_card_keeps_the_sale_open(shift):
    shift.post("sale/scan", {"code": MILK})

    response = shift.post("tender/add", {"kind": "card", "amount": "1.99", "reference": "X", "declined": "1"})

    assert response["Location"] == f"{shift.base}tender/"
    assert "Card declined: take another card" in shift.get("tender/").content.decode()
    assert "Card declined: take another card" not in shift.get("tender/").content.decode()  # said once
    assert Sale.objects.get().status == "open"


def test_a_tender_that_does_not_settle_the_sale_comes_back_to_the_payment_screen_by_get(shift):
    # given a sale of two milks (3.98)
    shift.post("sale/scan", {"code": MILK, "qty": "2"})

    # when 1.00 cash is handed over
    response = shift.post("tender/add", {"kind": "cash", "amount": "1.00"})

    # then the payment screen is shown by its own URL: reloading it hands over nothing again
    assert response.status_code == 302
    assert response["Location"] == f"{shift.base}tender/"
    assert 'data-testid="cash-due">4.00<' in shift.get("tender/").content.decode()
    assert Sale.objects.get().tenders.count() == 1


def test_the_last_payment_is_removed_by_its_shortcut_and_earlier_ones_by_their_buttons(shift):
    # given a sale of two milks (3.98) with two cash payments that do not settle it
    shift.post("sale/scan", {"code": MILK, "qty": "2"})
    shift.post("tender/add", {"kind": "cash", "amount": "1.00"})
    shift.post("tender/add", {"kind": "cash", "amount": "2.00"})
    html = shift.get("tender/").content.decode()
    # then only the last payment's Remove carries the Alt+Del shortcut (listed in the F1 help)
    assert html.count('data-shortcut="Alt+Delete"') == 1
    last = Sale.objects.get().tenders.order_by("created_at").last()
    form = html[html.index(f"tender/{last.id}/remove") :]
    assert form.index('data-shortcut="Alt+Delete"') < form.index("</form>")


def test_points_beyond_the_balance_are_refused_on_the_tender_screen(shift):
    make_member(card_barcode="MBR100002", points_balance=50)
    shift.post("sale/scan", {"code": MILK})
    shift.post("sale/scan", {"code": "MBR100002"})

    html = shift.post("tender/add", {"kind": "points", "points": "100"}).content.decode()

    assert "Only 50 points can be redeemed at this store now" in html
    assert Sale.objects.get().status == "open"


def test_return_by_receipt_then_z_report(shift):
    shift.post("sale/scan", {"code": MILK, "qty": "2"})
    shift.post("tender/add", {"kind": "cash", "amount": "5.00"})
    sale = Sale.objects.get()
    line = SaleLine.objects.get()

    scanned = shift.post("return/", {"code": sale.receipt_number}, HTTP_HX_REQUEST="true")
    assert scanned["HX-Redirect"] == f"{shift.base}return/?receipt={sale.receipt_number}"
    form = shift.get("return/", {"receipt": sale.receipt_number}).content.decode()
    assert "Whole Milk 1 l" in form
    refunded = shift.post("return/", {"receipt": sale.receipt_number, f"qty-{line.id}": "1"})
    assert refunded.status_code == 302

    z = shift.post("shift/close", {"d-100.00": "1", "d-2.00": "1"}).content.decode()
    assert 'data-testid="sales-total">3.98<' in z
    assert 'data-testid="returns-total">-1.99<' in z
    # cash in 4.00 (3.98 rounded to the coin), refunded 2.00 (1.99 rounded): 100 + 2.00 expected
    assert 'data-testid="tender-cash">2.00<' in z
    assert 'data-testid="expected-cash">102.00<' in z
    assert 'data-testid="counted-cash">102.00<' in z
    assert 'data-testid="over-short">0.00<' in z


def test_a_member_card_scanned_on_the_payment_screen_attaches_the_member_and_returns_there(shift):
    # given a sale of one milk on the payment screen
    make_member(card_barcode="MBR100003", first_name="Anna", points_balance=80)
    shift.post("sale/scan", {"code": MILK})

    # when the member card is scanned there
    response = shift.post("tender/scan", {"code": "MBR100003"}, HTTP_HX_REQUEST="true")

    # then the member is on the sale and the payment screen comes back with their points
    assert response["HX-Redirect"] == f"{shift.base}tender/"
    assert Sale.objects.get().member.first_name == "Anna"
    assert 'data-testid="points"' in shift.get("tender/").content.decode()


def test_anything_but_a_member_card_on_the_payment_screen_says_where_it_goes(shift):
    shift.post("sale/scan", {"code": MILK})

    html = shift.post("tender/scan", {"code": BREAD}, HTTP_HX_REQUEST="true").content.decode()

    assert "Esc to add items" in html
    assert _lines() == [("Whole Milk 1 l", Decimal("1.000"), Decimal("1.99"), False)]


def test_changing_the_member_after_points_paid_is_refused_on_the_payment_screen(shift):
    make_member(card_barcode="MBR100004", points_balance=500)
    make_member(card_barcode="MBR100005", first_name="Ben", points_balance=500)
    shift.post("sale/scan", {"code": MILK})
    shift.post("sale/scan", {"code": "MBR100004"})
    shift.post("tender/add", {"kind": "points", "points": "10"})

    html = shift.post("tender/scan", {"code": "MBR100005"}, HTTP_HX_REQUEST="true").content.decode()

    assert "Remove the points payment before changing the member" in html
    assert Sale.objects.get().member.card_barcode == "MBR100004"


def test_remove_on_a_stale_payment_screen_after_the_sale_is_paid_goes_to_the_sale_screen(shift):
    # given a sale paid in full, its payment screen still showing a Remove button (another tab, a
    # double click)
    shift.post("sale/scan", {"code": MILK})
    shift.post("tender/add", {"kind": "cash", "amount": "5.00"})
    sale = Sale.objects.get()
    assert sale.status == "completed"
    tender = sale.tenders.get()

    # when that Remove is pressed
    response = shift.post(f"tender/{tender.id}/remove")

    # then the sale screen says so, and the paid sale keeps its payment
    assert response.status_code == 302
    assert response["Location"] == f"{shift.base}sale/"
    html = shift.get("sale/").content.decode()
    assert "No sale is open: that payment was not removed." in html
    assert sale.tenders.count() == 1


def test_remove_pressed_twice_removes_once_and_says_so_the_second_time(shift):
    shift.post("sale/scan", {"code": MILK})
    shift.post("tender/add", {"kind": "cash", "amount": "1.00"})
    tender = Sale.objects.get().tenders.get()

    first = shift.post(f"tender/{tender.id}/remove")
    second = shift.post(f"tender/{tender.id}/remove")

    assert first.status_code == 302
    assert first["Location"] == f"{shift.base}tender/"
    assert second.status_code == 200
    assert "That payment is not on the sale any more." in second.content.decode()
    assert Sale.objects.get().tenders.count() == 0


def test_reprint_copies_a_printed_receipt_and_prints_a_failed_one_as_itself(shift):
    # given a paid sale whose receipt printed
    shift.post("sale/scan", {"code": MILK})
    shift.post("tender/add", {"kind": "cash", "amount": "5.00"})
    sale = Sale.objects.get()
    receipt = PrintJob.objects.get(kind="receipt")
    PrintJob.objects.filter(pk=receipt.pk).update(status="printed")

    # when Reprint is pressed, it is printed again as a copy
    assert shift.post(f"receipt/{sale.id}/reprint")["Location"] == f"{shift.base}receipt/{sale.id}/"
    copy = PrintJob.objects.get(kind="reprint")
    assert copy.payload["title"] == "COPY"

    # given the receipt had failed instead (out of paper for good)
    copy.delete()
    PrintJob.objects.filter(pk=receipt.pk).update(status="failed", last_error="paper_out: no paper")
    html = shift.get(f"receipt/{sale.id}/").content.decode()
    assert "Sale saved — reload paper, then Reprint (F9)" in html

    # when Reprint is pressed, that receipt is queued again, and no copy
    shift.post(f"receipt/{sale.id}/reprint")
    receipt.refresh_from_db()
    assert receipt.status == "queued"
    assert not PrintJob.objects.filter(kind="reprint").exists()
