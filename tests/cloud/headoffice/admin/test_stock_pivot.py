"""Stock across stores: one row per product, one column per store, in a fixed number of queries."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cloud.headoffice.selectors import ALL_STORES, stock_pivot
from retail.stock.services import stock_move
from tests.factories import make_product, make_store
from tests.html import without_tokens

URL = "/admin/stock/stocklevel/pivot/"


@pytest.fixture
def stock(chain):
    """Bananas (chain.product) 5 at S01, -2 at S02; apples 1 at S01 only; pears nowhere."""
    apples = make_product(sku="A-100", name="Apples")
    pears = make_product(sku="P-100", name="Pears")
    stock_move(store_id=chain.s1.id, product_id=chain.product.id, kind="receipt", quantity=Decimal("5"))
    stock_move(store_id=chain.s2.id, product_id=chain.product.id, kind="sale", quantity=Decimal("-2"))
    stock_move(store_id=chain.s1.id, product_id=apples.id, kind="receipt", quantity=Decimal("1"))
    return {"bananas": chain.product, "apples": apples, "pears": pears}


def _table(html):
    """The pivot as {sku: [cell texts]} and the column headers."""
    body = html.split('id="stock-pivot"', 1)[1].split("</table>", 1)[0]
    headers = re.findall(r'<th class="qty"[^>]*>([^<]+)</th>', body)
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = [
            re.sub(r"<[^>]+>|&nbsp;", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        if len(cells) > 2:
            rows[cells[0]] = cells[2:]
    return headers, rows


def test_head_office_sees_every_product_with_its_on_hand_per_store_and_a_total(client, chain, stock):
    client.force_login(chain.head_office)

    page = client.get(URL)

    assert page.status_code == 200
    headers, rows = _table(page.content.decode())
    assert headers == ["S01", "S02", "total"]
    assert rows == {"A-100": ["1", "", "1"], stock["bananas"].sku: ["5", "-2", "3"], "P-100": ["", "", "0"]}


def test_a_cell_opens_that_stores_movements_of_the_product(client, chain, stock):
    client.force_login(chain.head_office)
    html = client.get(URL).content.decode()
    link = re.search(
        rf'href="(/admin/stock/stockmovement/\?store={chain.s2.pk}&amp;product={stock["bananas"].pk})"', html
    )

    history = client.get(link.group(1).replace("&amp;", "&"))

    assert history.status_code == 200
    assert "1 stock movement" in history.content.decode() and "-2.000" in history.content.decode()


@pytest.mark.parametrize(
    "query, skus",
    [
        ("q=A-1", ["A-100"]),
        ("q=pear", ["P-100"]),
        ("only=negative", ["BANANAS"]),
        ("only=below&threshold=2", ["A-100", "BANANAS"]),
        ("only=below&threshold=2&store=S01", ["A-100"]),
        ("only=negative&store=S01", []),
    ],
)
def test_search_and_filters(client, chain, stock, query, skus):
    client.force_login(chain.head_office)

    _headers, rows = _table(client.get(f"{URL}?{query}").content.decode())

    assert sorted(rows) == sorted(stock["bananas"].sku if s == "BANANAS" else s for s in skus)


def test_a_store_manager_sees_only_their_stores_column_and_filters_on_it(client, chain, stock):
    client.force_login(chain.manager)

    everything = without_tokens(client.get(URL).content.decode())
    negative = client.get(f"{URL}?only=negative&store=S02").content.decode()

    headers, rows = _table(everything)
    assert headers == ["S01"] and rows[stock["bananas"].sku] == ["5"]
    assert "S02" not in everything and "Hamburg" not in everything
    assert _table(negative)[1] == {}  # S02's -2 is not theirs to see, nor to filter on


def test_the_pivot_pages_through_a_large_catalog(client, chain, stock):
    for n in range(60):
        make_product(sku=f"Z-{n:03d}", name=f"Zucchini {n}")
    client.force_login(chain.head_office)

    first = client.get(URL).content.decode()
    second = client.get(f"{URL}?page=2").content.decode()
    beyond = client.get(f"{URL}?page=99")

    assert len(_table(first)[1]) == 50 and len(_table(second)[1]) == 13
    assert "63 products, page 1 of 2" in first and "page=2" in first
    assert beyond.status_code == 200 and "page 2 of 2" in beyond.content.decode()
    # and a search pages the same way, its count bounded rather than exact
    searched = client.get(f"{URL}?q=Zucchini&page=2").content.decode()
    assert "60 products, page 2" in searched and len(_table(searched)[1]) == 10


def test_a_filtered_count_stops_at_the_cap(client, chain, stock, monkeypatch):
    from cloud.headoffice import selectors

    monkeypatch.setattr(selectors, "PIVOT_COUNT_CAP", 1)
    client.force_login(chain.head_office)

    html = client.get(f"{URL}?only=below&threshold=100").content.decode()  # bananas and apples

    assert "More than 1 products" in html and len(_table(html)[1]) == 2


def test_the_pivot_is_four_queries_however_many_products_and_stores(chain, stock, django_assert_num_queries):
    for n in range(30):
        make_store(f"X{n:02d}")
        make_product(sku=f"Z-{n:03d}")

    with django_assert_num_queries(4):  # stores, count, the page's products, their levels
        pivot = stock_pivot(scope=ALL_STORES, only="below", threshold=Decimal("10"), per_page=50)

    assert len(pivot.stores) == 32
    assert [r.product.sku for r in pivot.rows] == sorted(["A-100", stock["bananas"].sku])


def test_the_page_costs_the_same_queries_for_few_products_or_many(client, chain, stock):
    client.force_login(chain.head_office)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        return len(queries)

    few = count()
    for n in range(40):
        product = make_product(sku=f"Z-{n:03d}")
        stock_move(store_id=chain.s2.id, product_id=product.id, kind="receipt", quantity=Decimal(n + 1))
    assert count() == few


@pytest.mark.parametrize(
    "query",
    ["only=below", "only=below&threshold=abc", "only=everything", "page=0", "page=100000000000000000000"],
)
def test_bad_filters_are_a_400_naming_the_problem(client, chain, stock, query):
    client.force_login(chain.head_office)

    page = client.get(f"{URL}?{query}")

    assert page.status_code == 400 and 'id="pivot-errors"' in page.content.decode()


def test_analysts_may_look_and_cashiers_may_not(client, chain, stock):
    from retail.staff.models import Role
    from tests.factories import make_user

    client.force_login(chain.analyst)
    assert client.get(URL).status_code == 200
    client.force_login(make_user(Role.CASHIER, store=chain.s1, is_staff=True))
    assert client.get(URL).status_code == 403


def test_the_stock_levels_list_links_to_the_pivot(client, chain, stock):
    client.force_login(chain.head_office)
    assert f'href="{URL}"' in client.get("/admin/stock/stocklevel/").content.decode()
