import pytest

from retail.replication.appliers import ApplyContext, event_apply
from store_node.orders.models import PickupOrder, PickupStatus
from store_node.orders.selectors import orders_ready, orders_to_pick, orders_waiting
from store_node.orders.services import order_mark_ready, order_pick_line
from tests.factories import make_store
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


def test_the_orders_waiting_are_counted_in_one_query(shop, django_assert_num_queries):
    # given four orders: one ready, one being picked, one still routed, one cancelled…
    for n in range(4):
        event_apply(env=placed_envelope(shop, number=f"W{n}", seq=n + 1), ctx=ApplyContext())
    first, second, _, fourth = orders_to_pick()
    for code in (TEA, TEA, HONEY):
        order_pick_line(order_id=first.id, scan=code)
    order_mark_ready(order_id=first.id)
    order_pick_line(order_id=second.id, scan=TEA)
    PickupOrder.objects.filter(pk=fourth.pk).update(status=PickupStatus.CANCELLED)
    # … and one of another store
    other = make_store("S09")
    event_apply(env=placed_envelope(shop, number="W9", seq=9), ctx=ApplyContext())
    PickupOrder.objects.filter(number="W9").update(store=other)

    with django_assert_num_queries(1):
        waiting = orders_waiting(store_id=shop.store.id)

    assert waiting == {"ready": 1, "to_pick": 2}
