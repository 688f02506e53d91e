"""The till's hot paths and lists run a fixed number of queries, whatever the sale's size."""

import pytest

from store_node.checkout.selectors import sales_suspended
from store_node.checkout.services.sales import sale_suspend
from tests.store_node.checkout.helpers import MILK, ring

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("lines_before", [1, 30])
def test_a_scan_costs_the_same_queries_on_a_small_or_a_large_sale(
    api, goods, lines_before, django_assert_num_queries
):
    sale = api.post("sales").json()
    for _ in range(lines_before):
        api.post(f"sales/{sale['id']}/lines", {"scan": MILK})
    # session, product with price and rate, sale (knowing it has no discount and no tenders), lines,
    # insert (already priced: no update of the other lines), sale totals, and the savepoint
    # statements: none per line
    with django_assert_num_queries(8):
        response = api.post(f"sales/{sale['id']}/lines", {"scan": MILK})
    assert len(response.json()["lines"]) == lines_before + 1


def test_a_scan_into_a_sale_with_a_discount_and_a_tender_reads_and_shows_them(
    api, goods, django_assert_num_queries
):
    # given a sale of one milk, 10 % off the sale, 5.00 cash handed over
    sale = api.post("sales").json()
    api.post(f"sales/{sale['id']}/lines", {"scan": MILK})
    api.post(f"sales/{sale['id']}/discount", {"kind": "percent", "value": "10"})
    api.post(f"sales/{sale['id']}/tenders", {"kind": "cash", "tendered": "5.00"})
    # when a second milk is scanned: the discount and the tenders are read too (two more queries),
    # and the first line's share of the sale discount changes (one more)
    with django_assert_num_queries(11):
        response = api.post(f"sales/{sale['id']}/lines", {"scan": MILK})
    # then 2 x 1.99 = 3.98 less 10 % (0.40) is 3.58, spread over both lines, with the tender shown
    body = response.json()
    assert (body["subtotal"], body["discount_total"], body["total"]) == ("3.98", "0.40", "3.58")
    assert [line["sale_discount_share"] for line in body["lines"]] == ["0.20", "0.20"]
    assert [(t["kind"], t["tendered"]) for t in body["tenders"]] == [("cash", "5.00")]


def test_suspended_list_is_one_query(till, goods, django_assert_num_queries):
    for _ in range(3):
        sale = ring(till, MILK)
        sale_suspend(sale_id=sale.id, terminal=till.terminal)
    with django_assert_num_queries(1):
        rows = [(s.terminal.code, s.cashier.username) for s in sales_suspended(store_id=till.store.id)]
    assert rows == [("T02", "c101")] * 3


@pytest.mark.parametrize("products", [1, 5])
def test_completing_a_sale_costs_the_same_queries_for_one_line_or_five(
    api, goods, products, django_assert_num_queries
):
    from retail.catalog.models import Unit
    from retail.outbox.models import Event
    from retail.stock.models import StockLevel
    from tests.factories import ean13, make_product

    # given the terminal's first receipt already taken (its counter row exists) by a sale of bread
    first = api.post("sales").json()
    api.post(f"sales/{first['id']}/lines", {"sku": "100002"})
    api.post(f"sales/{first['id']}/complete", {"tenders": [{"kind": "cash", "tendered": "5.00"}]})
    # and an open sale of `products` lines, none of them ever moved at this store
    codes = [MILK] + [ean13(f"40000009{i:04d}") for i in range(1, products)]
    for code in codes[1:]:
        make_product("2.50", barcode=code, unit=Unit.EACH)
    sale = api.post("sales").json()
    for code in codes:
        api.post(f"sales/{sale['id']}/lines", {"scan": code})
    events_before = Event.objects.count()
    # session, sale (which says it has no discount and no tenders yet: none looked for), cash tender,
    # shift, lines with their units, receipt number, sale, cash tender amounts, tax lines, stock
    # (movements, levels, missing levels, levels again, level update) with sale.completed and the
    # stock.moved events (clock, events), print job, drawer kick, and the savepoints
    with django_assert_num_queries(22):
        response = api.post(
            f"sales/{sale['id']}/complete", {"tenders": [{"kind": "cash", "tendered": "50.00"}]}
        )
    # then it completed, with one stock movement and event per line
    assert response.status_code == 200, response.content
    assert StockLevel.objects.count() == 1 + products
    assert Event.objects.count() - events_before == 1 + products


@pytest.mark.parametrize("products", [1, 3])
def test_a_returns_stock_movements_cost_the_same_queries_for_one_line_or_three(
    till, goods, products, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from store_node.checkout.services.returns import sale_return
    from store_node.checkout.services.tenders import sale_complete
    from tests.factories import ean13, make_product

    extra = [make_product("1.00", barcode=ean13(f"4100000000{n:02d}")) for n in range(products - 1)]
    sale = ring(till, MILK, *[p.barcodes.get().code for p in extra])
    sold = sale_complete(
        sale_id=sale.id,
        terminal=till.terminal,
        cashier=till.cashier,
        tenders=[{"kind": "cash", "tendered": "50.00"}],
    )
    lines = [{"line_id": line.id, "quantity": 1, "restock": False} for line in sold.lines.all()]
    with CaptureQueriesContext(connection) as queries:
        sale_return(terminal=till.terminal, cashier=till.cashier, receipt=sold.receipt_number, lines=lines)
    # restocked and written off, per line, in one set of statements: no query per line
    stock = [q for q in queries.captured_queries if "stock_stock" in q["sql"]]
    # the movements inserted, the levels read (the sale made them) and updated
    assert len(stock) == 3
    assert sold.lines.count() == products
