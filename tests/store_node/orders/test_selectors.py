import pytest

from retail.replication.appliers import ApplyContext, event_apply
from store_node.orders.selectors import orders_ready, orders_to_pick
from store_node.orders.services import order_mark_ready, order_pick_line
from tests.store_node.orders.conftest import HONEY, TEA, placed_envelope

pytestmark = pytest.mark.django_db


def test_the_lists_take_two_queries_however_many_orders(shop, django_assert_num_queries):
    # given five orders at the store, one of them picked and ready
    for n in range(5):
        event_apply(env=placed_envelope(shop, number=f"W{n}", seq=n + 1), ctx=ApplyContext())
    first = orders_to_pick()[0]
    for code in (TEA, TEA, HONEY):
        order_pick_line(order_id=first.id, scan=code)
    order_mark_ready(order_id=first.id)

    # when the handheld and the till list them, then each list is two queries (orders, their lines)
    with django_assert_num_queries(2):
        to_pick = orders_to_pick()
        assert [(o.number, len(o.lines.all())) for o in to_pick] == [(f"W{n}", 2) for n in range(1, 5)]
    with django_assert_num_queries(2):
        ready = orders_ready()
        assert [(o.number, [line.sku for line in o.lines.all()]) for o in ready] == [("W0", ["T1", "H1"])]
