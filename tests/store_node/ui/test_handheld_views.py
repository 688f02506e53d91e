from decimal import Decimal

import pytest

from retail.audit.models import AuditEntry
from retail.outbox.models import Event
from retail.stock.models import StockLevel, StockMovement
from retail.stock.services import stock_move
from tests.factories import make_product, make_store

pytestmark = pytest.mark.django_db


def test_lookup_shows_price_stock_here_and_at_other_stores(handheld, store):
    # given a product stocked here and at another store
    product = make_product("2.49", name="Alpenhof Whole Milk 1 l", barcode="4000000000013")
    other = make_store("S02", name="Hamburg Altona")
    stock_move(store_id=store.id, product_id=product.id, kind="receipt", quantity=Decimal("12"))
    stock_move(store_id=other.id, product_id=product.id, kind="receipt", quantity=Decimal("5"))

    # when the handheld looks up its barcode
    response = handheld.get("/h/", {"q": "4000000000013"})

    # then the card shows the price, on hand here and at S02 with the age of that figure
    html = response.content.decode()
    assert response.status_code == 200
    assert "Alpenhof Whole Milk 1 l" in html
    assert 'data-testid="lookup-price">2.49' in html
    assert 'data-testid="on-hand-here">12<' in html
    assert "S02 Hamburg Altona" in html
    assert ">5</td>" in html
    assert "ago" in html


def test_lookup_of_an_unknown_barcode_says_so(handheld, store):
    response = handheld.get("/h/", {"q": "4000000000020"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert "No product for &#x27;4000000000020&#x27;." in response.content.decode()
    assert "<html" not in response.content.decode()  # an htmx fragment, not the page


def test_lookup_of_a_broken_check_digit_explains_it(handheld, store):
    response = handheld.get("/h/", {"q": "4000000000018"})

    assert "check digit wrong: expected 3, got 8" in response.content.decode()


def test_lookup_by_name_lists_the_matches(handheld, store):
    make_product(name="Nordsee Tuna 200 g")
    make_product(name="Nordsee Tuna 400 g")

    html = handheld.get("/h/", {"q": "tuna"}).content.decode()

    assert "Several products match" in html
    assert html.index("Nordsee Tuna 200 g") < html.index("Nordsee Tuna 400 g")


def test_count_review_and_post_records_the_differences_as_count_events(supervisor_handheld, store):
    client = supervisor_handheld
    # given two products with 10 and 4 on the book
    a = make_product(name="Apples", barcode="4000000000037")
    b = make_product(name="Bread", sku="BREAD-1")
    stock_move(store_id=store.id, product_id=a.id, kind="receipt", quantity=Decimal("10"))
    stock_move(store_id=store.id, product_id=b.id, kind="receipt", quantity=Decimal("4"))

    # when the shelf shows 7 apples (scanned) and 4 loaves (by SKU)
    r1 = client.post("/h/count/add", {"code": "4000000000037", "counted": "7"})
    r2 = client.post("/h/count/add", {"code": "BREAD-1", "counted": "4"})
    review = client.get("/h/count/review").content.decode()
    posted = client.post("/h/count/post")

    # then the review shows -3 for apples (a supervisor needs no approval), and posting moves only
    # the apples, naming the supervisor who counted
    assert "Apples: 7 counted." in r1.content.decode()
    assert "Bread: 4 counted." in r2.content.decode()
    assert 'diff-neg">-3<' in review
    assert 'data-testid="count-approval"' not in review
    assert posted.status_code == 200
    assert "2 lines, 1 with a difference. Counted by s101." in posted.content.decode()
    assert StockMovement.objects.get(kind="count").note == "counted by s101"
    assert StockLevel.objects.get(store=store, product=a).on_hand == Decimal("7")
    assert StockLevel.objects.get(store=store, product=b).on_hand == Decimal("4")
    counted = Event.objects.filter(type="stock.counted").order_by("seq")
    assert [(e.payload["book"], e.payload["counted"], e.payload["difference"]) for e in counted] == [
        ("10.000", "7", "-3.000"),
        ("4.000", "4", "0.000"),
    ]
    assert StockMovement.objects.filter(kind="count").count() == 1
    assert client.get("/h/count/review").content.decode().count("Nothing counted yet.") == 1


def test_count_refuses_a_quantity_that_is_not_a_number(handheld, store):
    make_product(name="Apples", barcode="4000000000037")

    html = handheld.post("/h/count/add", {"code": "4000000000037", "counted": "lots"}).content.decode()

    assert "Enter the counted quantity" in html
    assert "Nothing counted yet." in html


def _cashier_counts_apples(handheld, store):
    apples = make_product(name="Apples", barcode="4000000000037")
    stock_move(store_id=store.id, product_id=apples.id, kind="receipt", quantity=Decimal("10"))
    handheld.post("/h/count/add", {"code": "4000000000037", "counted": "7"})
    return apples


def test_a_cashiers_review_asks_for_a_supervisor_and_posting_alone_is_refused(handheld, store):
    # given a cashier's count of 7 apples (10 on the book)
    apples = _cashier_counts_apples(handheld, store)

    # when the cashier reviews it and posts it without a supervisor
    review = handheld.get("/h/count/review").content.decode()
    refused = handheld.post("/h/count/post")

    # then the review asks for a supervisor's staff number and PIN; the post is refused, saying
    # so, with the sheet kept and the book unchanged
    assert 'data-testid="count-approval"' in review
    assert refused.status_code == 200  # the review again, with the refusal on it
    html = refused.content.decode()
    assert "posting a count needs the username and PIN of a supervisor or above" in html
    assert 'diff-neg">-3<' in html
    assert StockLevel.objects.get(store=store, product=apples).on_hand == Decimal("10")
    assert not Event.objects.filter(type="stock.counted").exists()


def test_a_wrong_supervisor_pin_is_refused_and_counted(handheld, store, floor_staff):
    _cashier_counts_apples(handheld, store)

    refused = handheld.post("/h/count/post", {"username": "s101", "pin": "0000"})

    assert refused.status_code == 200
    assert "Wrong PIN for s101: 4 attempts left" in refused.content.decode()
    floor_staff["supervisor"].refresh_from_db()
    assert floor_staff["supervisor"].failed_pin_attempts == 1


def test_a_cashiers_count_posts_with_a_supervisors_pin_and_names_both(handheld, store):
    apples = _cashier_counts_apples(handheld, store)

    posted = handheld.post("/h/count/post", {"username": "s101", "pin": "2222"})

    assert posted.status_code == 200
    assert "1 line, 1 with a difference. Counted by c101, approved by s101." in posted.content.decode()
    assert StockLevel.objects.get(store=store, product=apples).on_hand == Decimal("7")
    assert Event.objects.get(type="stock.counted").payload["note"] == "counted by c101, approved by s101"
    entry = AuditEntry.objects.get(action="stock_count")
    assert (entry.actor.username, entry.approver.username) == ("c101", "s101")


def test_unknown_page_is_the_friendly_404_not_a_trace(client, store, settings):
    settings.DEBUG = False
    response = client.get("/no/such/page")

    assert response.status_code == 404
    assert "This page does not exist on this till." in response.content.decode()
