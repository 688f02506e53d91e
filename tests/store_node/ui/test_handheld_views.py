from decimal import Decimal

import pytest

from retail.audit.models import AuditEntry
from retail.outbox.models import Event
from retail.stock.models import StockLevel, StockMovement
from retail.stock.services import stock_move
from tests.factories import ean13, make_product, make_store

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


def test_other_stores_figures_are_as_of_their_last_sync(handheld, store):
    from datetime import timedelta

    from django.utils import timezone

    from store_node.sync.models import PeerLastSync

    # given S02's stock here, and head office's word that S02 last synced 10 minutes ago
    product = make_product("2.49", name="Alpenhof Whole Milk 1 l", barcode="4000000000013")
    other = make_store("S02", name="Hamburg Altona")
    stock_move(store_id=other.id, product_id=product.id, kind="receipt", quantity=Decimal("5"))
    PeerLastSync.objects.create(store_code="S02", last_contact_at=timezone.now() - timedelta(minutes=10))
    # when the handheld looks it up, then S02's figure says how old it may be
    html = handheld.get("/h/", {"q": "4000000000013"}).content.decode()
    assert 'data-testid="as-of">its last sync 10 minutes ago<' in html


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

    # when the shelf shows 7 apples (scanned) and 4 loaves (by SKU), the counts typed
    r1 = client.post("/h/count/add", {"code": "4000000000037", "counted": "7"}, HTTP_HX_REQUEST="true")
    r2 = client.post("/h/count/add", {"code": "BREAD-1", "counted": "4"}, HTTP_HX_REQUEST="true")
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

    html = handheld.post(
        "/h/count/add", {"code": "4000000000037", "counted": "lots"}, HTTP_HX_REQUEST="true"
    ).content.decode()

    assert "Apples: enter the quantity as a number, not &#x27;lots&#x27;." in html
    assert "Nothing counted yet." in html


def _scan(client, code, counted=""):
    return client.post("/h/count/add", {"code": code, "counted": counted}, HTTP_HX_REQUEST="true")


def test_each_scan_adds_one_and_a_typed_count_sets_the_line(handheld, store):
    # given tuna on the shelf
    tuna = make_product(name="Nordsee Tuna 200 g", sku="TUNA-200", barcode="4000000000044")

    # when it is scanned three times, then 10 is typed and it is scanned, then scanned once more
    scans = [_scan(handheld, "4000000000044").content.decode() for _ in range(3)]
    typed = _scan(handheld, "4000000000044", counted="10").content.decode()
    again = _scan(handheld, "TUNA-200").content.decode()

    # then each scan added one, shown as the running count of the line; the typed count set it
    assert "Nordsee Tuna 200 g: 1 counted (+1)." in scans[0]
    assert "Nordsee Tuna 200 g: 3 counted (+1)." in scans[2]
    assert 'data-testid="counted-TUNA-200">3<' in scans[2]
    assert "Nordsee Tuna 200 g: 10 counted." in typed
    assert "Nordsee Tuna 200 g: 11 counted (+1)." in again
    assert 'data-testid="counted-TUNA-200">11<' in again
    assert again.count("Nordsee Tuna 200 g</td>") + again.count("Nordsee Tuna 200 g<br>") == 1  # one line
    assert 'class="last"' in again  # the line scanned last stands out
    assert handheld.session["handheld_count"] == {str(tuna.id): {"counted": "11", "book": "0"}}


def test_a_weighed_label_adds_its_weight_and_a_weighed_item_without_one_is_refused(handheld, store):
    # given cheese sold by weight, scale item code 12345 (a weight label: 21, the item, grams)
    make_product(name="Bergkaese", sku="CHEESE", unit="kg", barcode="12345")
    label = ean13("211234500512")  # 0.512 kg

    # when its label is scanned twice, and the item is scanned by SKU without a label
    _scan(handheld, label)
    weighed = _scan(handheld, label).content.decode()
    refused = _scan(handheld, "CHEESE").content.decode()

    # then the weights add up; without a label the counter is told to type the kilograms
    assert "Bergkaese: 1.024 kg counted (+0.512 kg)." in weighed
    assert "Bergkaese is sold by weight: scan its label, or type the kilograms counted." in refused
    assert 'data-testid="counted-CHEESE">1.024<' in refused


def test_a_scan_without_javascript_goes_back_to_the_count_page(handheld, store):
    make_product(name="Apples", barcode="4000000000037")

    response = handheld.post("/h/count/add", {"code": "4000000000037"})

    assert response.status_code == 302 and response["Location"] == "/h/count/"
    assert 'data-testid="counted-' in handheld.get("/h/count/").content.decode()


def test_a_line_of_the_sheet_is_set_as_typed_or_taken_off_when_blank(handheld, store):
    apples = make_product(name="Apples", barcode="4000000000037")
    _scan(handheld, "4000000000037")

    set_to = handheld.post(
        "/h/count/set", {"product": apples.id, "counted": "12"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    cleared = handheld.post(
        "/h/count/set", {"product": apples.id, "counted": ""}, HTTP_HX_REQUEST="true"
    ).content.decode()

    assert "Apples: 12 counted." in set_to
    assert "Apples: not counted." in cleared
    assert "Nothing counted yet." in cleared


@pytest.fixture
def aisle(store):
    """Three tuna products and milk, some on the book here; bread at the reduced tax rate."""
    tuna = [
        make_product(name="Nordsee Tuna 200 g", sku="FISH-1"),
        make_product(name="Nordsee Tuna 400 g", sku="FISH-2"),
        make_product(name="Nordsee Tuna in oil 200 g", sku="FISH-3"),
    ]
    milk = make_product(name="Alpenhof Whole Milk 1 l", sku="MILK-1", barcode="4000000000013")
    bread = make_product(name="Rye Bread", sku="BREAD-1", tax="RED", rate="0.07")
    make_product(name="Nordsee Tuna discontinued", sku="FISH-9", active=False)
    stock_move(store_id=store.id, product_id=tuna[0].id, kind="receipt", quantity=Decimal("12"))
    stock_move(store_id=store.id, product_id=tuna[1].id, kind="receipt", quantity=Decimal("6"))
    stock_move(store_id=store.id, product_id=milk.id, kind="sale", quantity=Decimal("-2"))
    return {"tuna": tuna, "milk": milk, "bread": bread}


def _listed(html: str) -> list[str]:
    import re

    table = html[html.index('data-testid="count-list"') :]
    return re.findall(r"<tr>\s*<td>([^<]+)<br>", table)


def test_a_list_is_chosen_by_name_sku_barcode_tax_class_or_stock_here(handheld, aisle):
    def listed(**query):
        return _listed(handheld.get("/h/count/list", query).content.decode())

    # name words in any order, a SKU's start, a scanned barcode; active products only, by name
    assert listed(q="tuna nordsee") == [
        "Nordsee Tuna 200 g",
        "Nordsee Tuna 400 g",
        "Nordsee Tuna in oil 200 g",
    ]
    assert listed(q="tuna 200") == ["Nordsee Tuna 200 g", "Nordsee Tuna in oil 200 g"]
    assert listed(q="fish-") == ["Nordsee Tuna 200 g", "Nordsee Tuna 400 g", "Nordsee Tuna in oil 200 g"]
    assert listed(q="4000000000013") == ["Alpenhof Whole Milk 1 l"]
    # the reduced tax class; what is on the book here; what is below zero on it
    assert listed(tax="RED") == ["Rye Bread"]
    assert listed(stock="on_hand") == ["Nordsee Tuna 200 g", "Nordsee Tuna 400 g"]
    assert listed(stock="negative") == ["Alpenhof Whole Milk 1 l"]
    assert listed(q="tuna", stock="on_hand") == ["Nordsee Tuna 200 g", "Nordsee Tuna 400 g"]
    # no choice yet is no list
    assert 'data-testid="count-list"' not in handheld.get("/h/count/list").content.decode()


def test_a_long_list_says_it_is_cut_short(handheld, aisle, monkeypatch):
    import pos_ui.selectors

    monkeypatch.setattr(pos_ui.selectors, "COUNT_LIST_LIMIT", 2)

    html = handheld.get("/h/count/list", {"q": "tuna"}).content.decode()

    assert "3 products: the first 2 are listed, narrow the list to count the rest." in html
    assert len(_listed(html)) == 2


def test_a_list_is_blind_unless_the_store_counts_against_the_book(handheld, aisle, settings):
    # given the store's default policy: counting is blind
    blind = handheld.get("/h/count/list", {"q": "tuna"}).content.decode()
    # when the store counts against the book
    settings.HANDHELD_COUNT_SHOWS_BOOK = True
    shown = handheld.get("/h/count/list", {"q": "tuna"}).content.decode()

    # then only then does the list show the book (12 and 6 of the first two)
    assert '<th class="num">Book</th>' not in blind
    assert '<td class="num">12</td>' not in blind
    assert '<th class="num">Book</th>' in shown
    assert '<td class="num">12</td>' in shown and '<td class="num">6</td>' in shown


def _set_row(client, product, counted):
    return client.post(
        "/h/count/set", {"product": product.id, "counted": counted, "part": "row"}, HTTP_HX_REQUEST="true"
    )


def test_counting_a_list_posts_the_rows_counted_and_not_the_blank_ones(supervisor_handheld, store, aisle):
    client = supervisor_handheld
    tuna = aisle["tuna"]
    # given the tuna list (12, 6 and none on the book)
    listing = client.get("/h/count/list", {"q": "tuna"}).content.decode()
    assert 'name="counted" value=""' in listing

    # when the counter types 10 for the 200 g and 0 for the 400 g, leaves "in oil" blank, and
    # corrects a typo on the 200 g
    typo = _set_row(client, tuna[0], "100").content.decode()
    row = _set_row(client, tuna[0], "10").content.decode()
    _set_row(client, tuna[1], "0")

    # then each answer is the row's count cell and the sheet's size
    assert f'id="counted-{tuna[0].id}" class="counted" data-counted="100">100<' in typo
    assert f'id="counted-{tuna[0].id}" class="counted" data-counted="10">10<' in row
    assert "1 product on the count sheet." in row
    assert "<html" not in row
    # and the list shows what is counted when it is opened again
    again = client.get("/h/count/list", {"q": "tuna"}).content.decode()
    assert 'name="counted" value="10"' in again and 'name="counted" value="0"' in again
    assert "2 products on the count sheet." in again

    # when the differences are reviewed and posted
    review = client.get("/h/count/review").content.decode()
    posted = client.post("/h/count/post").content.decode()

    # then the review has the two counted rows (-2 and -6), not the blank one; posting writes a
    # count event for each, against the book when counted, and moves the stock to the counts
    assert 'diff-neg">-2<' in review and 'diff-neg">-6<' in review
    assert "in oil" not in review
    assert "2 lines, 2 with a difference. Counted by s101." in posted
    counted = Event.objects.filter(type="stock.counted").order_by("seq")
    assert [
        (e.payload["product_id"], e.payload["book"], e.payload["counted"], e.payload["difference"])
        for e in counted
    ] == [
        (str(tuna[0].id), "12.000", "10", "-2.000"),
        (str(tuna[1].id), "6.000", "0", "-6.000"),
    ]
    assert sorted(StockMovement.objects.filter(kind="count").values_list("quantity", flat=True)) == [
        Decimal("-6"),
        Decimal("-2"),
    ]
    assert StockLevel.objects.get(store=store, product=tuna[0]).on_hand == Decimal("10")
    assert StockLevel.objects.get(store=store, product=tuna[1]).on_hand == Decimal("0")
    assert not StockLevel.objects.filter(store=store, product=tuna[2]).exists()


def test_a_row_cleared_is_not_counted_and_a_bad_count_keeps_the_one_before(handheld, aisle):
    tuna = aisle["tuna"][0]
    _set_row(handheld, tuna, "10")

    refused = _set_row(handheld, tuna, "2.5").content.decode()
    cleared = _set_row(handheld, tuna, "").content.decode()

    assert "Nordsee Tuna 200 g is sold by the piece: the quantity must be a whole number, not 2.5." in refused
    assert 'data-counted="10">10<' in refused  # the count before stays
    assert 'data-counted="">' in cleared
    assert "0 products on the count sheet." in cleared
    assert "Nothing counted yet." in handheld.get("/h/count/review").content.decode()


def test_a_row_set_without_javascript_goes_back_to_its_list(handheld, aisle):
    response = handheld.post(
        "/h/count/set",
        {"product": aisle["tuna"][0].id, "counted": "3", "part": "row", "back": "/h/count/list?q=tuna"},
    )
    outside = handheld.post(
        "/h/count/set", {"product": aisle["tuna"][0].id, "counted": "3", "back": "https://evil.example/"}
    )

    assert response["Location"] == "/h/count/list?q=tuna"
    assert outside["Location"] == "/h/count/"


def test_a_count_is_posted_against_the_book_when_it_was_counted(supervisor_handheld, store, aisle):
    client = supervisor_handheld
    tuna = aisle["tuna"][0]
    # given 10 tuna counted on the shelf while the book says 12
    _set_row(client, tuna, "10")
    # when a till sells one before the count is posted
    stock_move(store_id=store.id, product_id=tuna.id, kind="sale", quantity=Decimal("-1"))
    review = client.get("/h/count/review").content.decode()
    client.post("/h/count/post")

    # then the count records -2 (10 against 12) and the sale still counts: 9 on the book
    assert 'diff-neg">-2<' in review
    assert "book 11 now: what moved since the count still counts" in review
    event = Event.objects.get(type="stock.counted")
    assert (event.payload["book"], event.payload["difference"]) == ("12.000", "-2.000")
    assert StockLevel.objects.get(store=store, product=tuna).on_hand == Decimal("9")


def test_the_review_goes_back_to_the_list_last_counted(handheld, aisle):
    handheld.get("/h/count/list", {"q": "tuna", "stock": "on_hand"})

    review = handheld.get("/h/count/review").content.decode()

    assert 'href="/h/count/list?q=tuna&amp;stock=on_hand">Count a list<' in review


def test_the_count_and_pick_pages_have_the_camera_button_hidden_until_the_browser_offers_it(handheld, store):
    count_page = handheld.get("/h/count/").content.decode()

    assert '<button type="button" class="hidden" data-camera>Camera</button>' in count_page
    assert "data-camera-view" in count_page


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
