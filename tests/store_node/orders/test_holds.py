from decimal import Decimal

import pytest
from django.template.loader import render_to_string

from pos_ui.selectors import handheld_lookup
from retail.replication.appliers import ApplyContext, event_apply
from retail.stock.services import stock_move
from store_node.orders.models import PickupOrder, PickupStatus
from store_node.orders.selectors import held_for_orders
from tests.store_node.orders.conftest import TEA, placed_envelope

pytestmark = pytest.mark.django_db


def test_open_pickup_orders_hold_their_goods_until_collected_or_cancelled(shop):
    # given two orders routed to this store: 2 teas and 1 honey, then 3 teas
    event_apply(env=placed_envelope(shop, number="W1"), ctx=ApplyContext())
    event_apply(
        env=placed_envelope(shop, number="W2", lines=[(shop.tea, "3", "2.50")], seq=2), ctx=ApplyContext()
    )
    # then both hold their teas, through picking and ready
    assert held_for_orders(store_id=shop.store.id, product_id=shop.tea.id) == Decimal("5.000")
    assert held_for_orders(store_id=shop.store.id, product_id=shop.honey.id) == Decimal("1.000")
    PickupOrder.objects.filter(number="W1").update(status=PickupStatus.READY)
    assert held_for_orders(store_id=shop.store.id, product_id=shop.tea.id) == Decimal("5.000")
    # and once one is collected and the other cancelled, nothing is held
    PickupOrder.objects.filter(number="W1").update(status=PickupStatus.COLLECTED)
    PickupOrder.objects.filter(number="W2").update(status=PickupStatus.CANCELLED)
    assert held_for_orders(store_id=shop.store.id, product_id=shop.tea.id) == Decimal("0.000")


def test_the_handheld_look_up_shows_what_orders_hold_and_what_is_free_to_sell(shop):
    # given 4 teas on the shelf and an order for 2
    stock_move(store_id=shop.store.id, product_id=shop.tea.id, kind="receipt", quantity=Decimal("4"))
    event_apply(env=placed_envelope(shop), ctx=ApplyContext())
    # when staff look the tea up on the handheld
    result = handheld_lookup(query=TEA, store=shop.store)
    html = render_to_string("pos_ui/handheld/lookup_result.html", {"result": result})
    # then it shows 4 on hand, 2 held for click-and-collect, 2 free to sell
    assert (result.on_hand_here, result.held_here, result.free_here) == (
        Decimal("4"),
        Decimal("2"),
        Decimal("2"),
    )
    assert 'data-testid="on-hand-here">4<' in html
    assert (
        "Held for click-and-collect: <strong>2</strong>" in html
        and "free to sell: <strong>2</strong>" in html
    )
