from decimal import Decimal

import pytest

from retail.api_errors import DomainError
from retail.outbox.models import Event
from retail.replication.appliers import ApplyContext, event_apply
from retail.sales.models import Sale, SaleStatus
from retail.shifts.services import shift_open
from retail.stock.models import StockMovement
from retail.stock.services import stock_move, stock_on_hand
from store_node.checkout.services.tenders import sale_complete
from store_node.orders.models import PickupOrder
from store_node.orders.services import order_collect, order_mark_ready, order_pick_line, order_pick_start
from tests.store_node.orders.conftest import HONEY, TEA, placed_envelope

pytestmark = pytest.mark.django_db


def _arrived(shop, **kw) -> PickupOrder:
    event_apply(env=placed_envelope(shop, **kw), ctx=ApplyContext())
    return PickupOrder.objects.get()


def _statuses_sent() -> list[str]:
    return [e.payload["status"] for e in Event.objects.filter(type="order.status_changed").order_by("seq")]


def _picked(order) -> list[tuple]:
    return list(order.lines.order_by("position").values_list("sku", "picked"))


def test_picking_every_item_then_marking_ready_announces_each_status(shop):
    # given an order for 2 teas and 1 honey at the store
    order = _arrived(shop)

    # when the picker starts, scans tea, tea, honey and marks it ready
    order_pick_start(order_id=order.id)
    for code in (TEA, TEA, HONEY):
        order_pick_line(order_id=order.id, scan=code)
    order_mark_ready(order_id=order.id)

    # then every item is picked, the order is ready, and head office is told each step
    order.refresh_from_db()
    assert order.status == "ready"
    assert _picked(order) == [("T1", Decimal("2.000")), ("H1", Decimal("1.000"))]
    assert _statuses_sent() == ["routed", "picking", "ready"]


def test_the_first_scan_starts_picking(shop):
    order = _arrived(shop)

    order_pick_line(order_id=order.id, scan="T1")

    order.refresh_from_db()
    assert (order.status, _picked(order)) == ("picking", [("T1", Decimal("1.000")), ("H1", Decimal("0.000"))])
    assert _statuses_sent() == ["routed", "picking"]


def test_a_product_not_in_the_order_is_refused(shop):
    order = _arrived(shop, lines=[(shop.tea, "1", "2.50")])

    with pytest.raises(DomainError) as refused:
        order_pick_line(order_id=order.id, scan=HONEY)

    assert refused.value.code == "not_in_order"
    assert _picked(order) == [("T1", Decimal("0.000"))]


def test_picking_more_than_ordered_is_refused(shop):
    order = _arrived(shop, lines=[(shop.tea, "1", "2.50")])
    order_pick_line(order_id=order.id, scan=TEA)

    with pytest.raises(DomainError) as refused:
        order_pick_line(order_id=order.id, scan=TEA)

    assert refused.value.code == "over_pick"
    assert _picked(order) == [("T1", Decimal("1.000"))]


def test_an_order_with_items_still_to_pick_cannot_be_ready(shop):
    order = _arrived(shop)
    order_pick_line(order_id=order.id, scan=TEA)

    with pytest.raises(DomainError) as refused:
        order_mark_ready(order_id=order.id)

    assert (refused.value.code, refused.value.extra) == ("not_picked", {"skus": ["T1", "H1"]})
    order.refresh_from_db()
    assert order.status == "picking"


def _ready(shop, **kw) -> PickupOrder:
    order = _arrived(shop, **kw)
    for code in (TEA, TEA, HONEY):
        order_pick_line(order_id=order.id, scan=code)
    return order_mark_ready(order_id=order.id)


def test_a_prepaid_order_is_collected_at_once(shop):
    order = _ready(shop, prepaid=True)

    order_collect(order_id=order.id, terminal=shop.terminal, cashier=shop.cashier)

    order.refresh_from_db()
    assert (order.status, order.sale_id) == ("collected", None)
    assert _statuses_sent()[-1] == "collected"


def _stock_given(shop) -> None:
    """10 teas and 5 honeys on hand at the store."""
    stock_move(store_id=shop.store.id, product_id=shop.tea.id, kind="receipt", quantity=Decimal("10"))
    stock_move(store_id=shop.store.id, product_id=shop.honey.id, kind="receipt", quantity=Decimal("5"))


def _on_hand(shop) -> tuple[Decimal, Decimal]:
    return (
        stock_on_hand(store_id=shop.store.id, product_id=shop.tea.id),
        stock_on_hand(store_id=shop.store.id, product_id=shop.honey.id),
    )


def _sales_moved(shop) -> list[tuple]:
    return list(
        StockMovement.objects.filter(store=shop.store, kind="sale")
        .order_by("product__sku")
        .values_list("product__sku", "quantity", "reference")
    )


def test_collecting_a_prepaid_order_takes_its_goods_off_the_stock_before_announcing_it(shop):
    # given 10 teas and 5 honeys, and a ready prepaid order for 2 teas and 1 honey
    _stock_given(shop)
    order = _ready(shop, prepaid=True)

    # when the customer collects it at the till
    order_collect(order_id=order.id, terminal=shop.terminal, cashier=shop.cashier)

    # then one sale movement per line left the store, naming the order, and the levels followed
    assert _sales_moved(shop) == [
        ("H1", Decimal("-1.000"), order.number),
        ("T1", Decimal("-2.000"), order.number),
    ]
    assert _on_hand(shop) == (Decimal("8"), Decimal("4"))
    # and their stock.moved events come just before the collected status change, in one transaction
    last = list(Event.objects.order_by("-seq")[:3])[::-1]
    assert [(e.type, e.payload.get("kind") or e.payload.get("status")) for e in last] == [
        ("stock.moved", "sale"),
        ("stock.moved", "sale"),
        ("order.status_changed", "collected"),
    ]
    assert {e.payload["product_id"] for e in last[:2]} == {str(shop.tea.id), str(shop.honey.id)}


def test_a_refused_collection_moves_no_stock(shop):
    # given a prepaid order collected once
    _stock_given(shop)
    order = _ready(shop, prepaid=True)
    order_collect(order_id=order.id, terminal=shop.terminal, cashier=shop.cashier)

    # when the cashier tries to collect it again
    with pytest.raises(DomainError) as refused:
        order_collect(order_id=order.id, terminal=shop.terminal, cashier=shop.cashier)

    # then it is refused and its goods left the stock once
    assert refused.value.code == "status_refused"
    assert _on_hand(shop) == (Decimal("8"), Decimal("4"))
    assert Event.objects.filter(type="stock.moved", payload__kind="sale").count() == 2


def test_a_not_prepaid_order_leaves_the_stock_once_with_its_till_sale(shop):
    # given 10 teas and 5 honeys, a ready order paid at the till and an open shift
    _stock_given(shop)
    order = _ready(shop, prepaid=False)
    shift_open(terminal=shop.terminal, cashier=shop.cashier, opening_float=Decimal("50.00"))

    # when the cashier opens its sale, the customer pays it and the cashier collects the order
    order_collect(order_id=order.id, terminal=shop.terminal, cashier=shop.cashier)
    assert _on_hand(shop) == (Decimal("10"), Decimal("5"))  # an open sale moves nothing yet
    sale = Sale.objects.get()
    sale_complete(
        sale_id=sale.id,
        terminal=shop.terminal,
        cashier=shop.cashier,
        tenders=[{"kind": "cash", "amount": "9.00"}],
    )
    sale.refresh_from_db()
    order_collect(order_id=order.id, terminal=shop.terminal, cashier=shop.cashier)

    # then the goods left once, with the sale's receipt number, and the collection moved nothing more
    assert _sales_moved(shop) == [
        ("H1", Decimal("-1.000"), sale.receipt_number),
        ("T1", Decimal("-2.000"), sale.receipt_number),
    ]
    assert _on_hand(shop) == (Decimal("8"), Decimal("4"))
    assert _statuses_sent()[-1] == "collected"


def test_a_not_prepaid_order_opens_a_sale_with_its_lines_and_is_collected_once_paid(shop):
    # given a ready order not paid online, and an open shift on the till
    order = _ready(shop, prepaid=False)
    shift_open(terminal=shop.terminal, cashier=shop.cashier, opening_float=Decimal("50.00"))

    # when the cashier collects it
    order_collect(order_id=order.id, terminal=shop.terminal, cashier=shop.cashier)

    # then a sale with the order's lines is open on the till and the order waits for payment
    order.refresh_from_db()
    sale = Sale.objects.get()
    assert (order.status, order.sale_id, sale.status) == ("ready", sale.id, SaleStatus.OPEN)
    assert list(sale.lines.order_by("position").values_list("description", "quantity")) == [
        ("Tea", Decimal("2.000")),
        ("Honey", Decimal("1.000")),
    ]
    with pytest.raises(DomainError) as refused:
        order_collect(order_id=order.id, terminal=shop.terminal, cashier=shop.cashier)
    assert refused.value.code == "payment_pending"

    # and once the sale is paid, collecting again marks it collected
    sale_complete(
        sale_id=sale.id,
        terminal=shop.terminal,
        cashier=shop.cashier,
        tenders=[{"kind": "cash", "amount": "20.00"}],
    )
    order_collect(order_id=order.id, terminal=shop.terminal, cashier=shop.cashier)
    order.refresh_from_db()
    assert order.status == "collected"


def test_an_order_that_is_not_ready_cannot_be_collected(shop):
    order = _arrived(shop)

    with pytest.raises(DomainError) as refused:
        order_collect(order_id=order.id, terminal=shop.terminal, cashier=shop.cashier)

    assert refused.value.code == "status_refused"


def test_each_status_change_wakes_the_sync_worker_after_commit(
    shop, monkeypatch, django_capture_on_commit_callbacks
):
    # given a sync worker running (not started: only its wake flag matters here)
    from store_node.sync import worker as sync_worker

    running = sync_worker.SyncWorker()
    monkeypatch.setattr(sync_worker, "_running", running)
    order = _arrived(shop)
    running.wake.clear()

    # when picking starts and commits
    with django_capture_on_commit_callbacks(execute=True):
        order_pick_start(order_id=order.id)

    # then the worker is woken to push the new status at once
    assert running.wake.is_set()


def test_a_not_prepaid_order_is_paid_at_the_orders_prices_after_the_till_price_changed(shop):
    from datetime import timedelta

    from django.utils import timezone

    from retail.audit.models import AuditEntry
    from retail.catalog.models import Price

    # given an order quoted online at tea 2.50 and honey 4.00 (9.00), ready at the store
    order = _ready(shop, prepaid=False)
    shift_open(terminal=shop.terminal, cashier=shop.cashier, opening_float=Decimal("50.00"))
    # and head office raised tea to 3.10 and lowered honey to 3.60 since
    since = timezone.now() - timedelta(seconds=1)
    Price.objects.create(product=shop.tea, amount=Decimal("3.10"), effective_from=since)
    Price.objects.create(product=shop.honey, amount=Decimal("3.60"), effective_from=since)

    # when the cashier collects it
    order_collect(order_id=order.id, terminal=shop.terminal, cashier=shop.cashier)

    # then the sale's lines carry the order's prices and its total is the order's
    sale = Sale.objects.get()
    assert list(sale.lines.order_by("position").values_list("sku", "unit_price", "line_total")) == [
        ("T1", Decimal("2.50"), Decimal("5.00")),
        ("H1", Decimal("4.00"), Decimal("4.00")),
    ]
    assert sale.total == order.total == Decimal("9.00")
    # and each changed price is audited with the order as reason, without a supervisor
    audits = AuditEntry.objects.filter(action="price_agreed").order_by("details__sku")
    assert [
        (a.details["sku"], a.details["from"], a.details["to"], a.details["reference"]) for a in audits
    ] == [
        ("H1", "3.60", "4.00", order.number),
        ("T1", "3.10", "2.50", order.number),
    ]
    assert {(a.actor_id, a.approver_id, a.details["reason"]) for a in audits} == {
        (shop.cashier.id, None, "price of the online order")
    }

    # and the customer pays 9.00 and takes the order
    sale_complete(
        sale_id=sale.id,
        terminal=shop.terminal,
        cashier=shop.cashier,
        tenders=[{"kind": "cash", "amount": "9.00"}],
    )
    order_collect(order_id=order.id, terminal=shop.terminal, cashier=shop.cashier)
    sale.refresh_from_db()
    order.refresh_from_db()
    assert (sale.status, sale.total, order.status) == ("completed", Decimal("9.00"), "collected")
    completed = Event.objects.get(type="sale.completed").payload
    assert [line["unit_price"] for line in completed["lines"]] == ["2.50", "4.00"]


def test_the_handheld_picker_is_named_in_the_status_changes(shop):
    order = _arrived(shop)

    for code in (TEA, TEA, HONEY):
        order_pick_line(order_id=order.id, scan=code, staff=shop.cashier)
    order_mark_ready(order_id=order.id, staff=shop.cashier)

    notes = [
        (e.payload["status"], e.payload["note"])
        for e in Event.objects.filter(type="order.status_changed").order_by("seq")
    ]
    assert notes == [("routed", "received at the store"), ("picking", "by c101"), ("ready", "by c101")]


@pytest.mark.django_db(transaction=True)
def test_every_status_change_is_pushed_to_the_stores_terminals_after_commit(shop):
    # given a listener on lane T02's group and a prepaid order that has arrived
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"terminal-{shop.terminal.id.hex}", channel)
    order = _arrived(shop, prepaid=True)

    # when it is picked, marked ready and collected
    for code in (TEA, TEA, HONEY):
        order_pick_line(order_id=order.id, scan=code)
    order_mark_ready(order_id=order.id)
    order_collect(order_id=order.id, terminal=shop.terminal, cashier=shop.cashier)

    # then the terminal hears of each step (the badge reloads its counts on each)
    heard = [async_to_sync(layer.receive)(channel) for _ in range(4)]
    assert [(m["type"], m["order"], m["status"]) for m in heard] == [
        ("terminal.order", "W261123-ABC123", status) for status in ("routed", "picking", "ready", "collected")
    ]
