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
    # session, sale, lines, product with price and rate, insert, sale discount, sale totals, tenders,
    # and the transaction's savepoint statements: no query per line
    with django_assert_num_queries(11):
        response = api.post(f"sales/{sale['id']}/lines", {"scan": MILK})
    assert len(response.json()["lines"]) == lines_before + 1


def test_suspended_list_is_one_query(till, goods, django_assert_num_queries):
    for _ in range(3):
        sale = ring(till, MILK)
        sale_suspend(sale_id=sale.id, terminal=till.terminal)
    with django_assert_num_queries(1):
        rows = [(s.terminal.code, s.cashier.username) for s in sales_suspended(store_id=till.store.id)]
    assert rows == [("T02", "c101")] * 3
