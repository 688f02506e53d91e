"""Online orders on the dashboards: a sale of the online channel once handed over, each sale counted once."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cloud.api.models import Order, OrderStatus
from cloud.api.orders import OrderItem, order_place, order_status_set
from cloud.api.services import api_key_create
from cloud.reporting.models import (
    DailyChainProductSales,
    DailyProductSales,
    DailyStoreSales,
    DailyTender,
    RolledUpOrder,
)
from cloud.reporting.selectors import dashboard_figures
from cloud.reporting.services import online_orders_rollup_record, sales_rollup_record
from retail.replication.appliers import ApplyContext, event_apply
from retail.replication.wire import Envelope
from retail.stock.services import stock_move
from tests.factories import make_completed_sale, make_member, make_product, make_store

pytestmark = pytest.mark.django_db

# A store's collection reported for 1 March 23:30 UTC: already 2 March in Berlin.
COLLECTED_AT = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
MARCH = {"date_from": date(2026, 3, 1), "date_to": date(2026, 3, 3)}


@pytest.fixture
def shop(db):
    """Berlin store S02 with 10 teas at 2.50 (tax 7 %), and the web shop's key."""
    store = make_store("S02", time_zone="Europe/Berlin")
    tea = make_product("2.50", sku="T1", name="Tea", rate="0.07", tax="RED")
    stock_move(store_id=store.id, product_id=tea.id, kind="receipt", quantity=Decimal("10"))
    key, _ = api_key_create(name="Web shop")
    return store, tea, key


def _pickup(shop, reference: str, *, prepaid: bool, quantity: str = "2", member=None) -> Order:
    store, _, key = shop
    order, _ = order_place(
        api_key=key,
        reference=reference,
        fulfilment="pickup",
        store_code=store.code,
        prepaid=prepaid,
        member_number=member.number if member else "",
        items=[OrderItem(sku="T1", quantity=Decimal(quantity))],
    )
    return order


def _from_store(order: Order, *statuses: str, at: datetime = COLLECTED_AT) -> None:
    """The pickup store's ``order.status_changed`` events, as its push applies them."""
    for n, status in enumerate(statuses, start=1):
        payload = {
            "id": str(order.id),
            "number": order.number,
            "store_id": str(order.store_id),
            "status": status,
            "at": (at - timedelta(minutes=len(statuses) - n)).isoformat(),
            "by": "S02",
            "note": "",
        }
        env = Envelope(uuid.uuid4(), "S02", n, n, "order.status_changed", 1, payload)
        event_apply(env=env, ctx=ApplyContext(origin_store_id=order.store_id))


def test_a_prepaid_pickup_order_collected_is_an_online_sale_of_its_store_on_the_day_of_collection(shop):
    # given a member's prepaid order for 2 teas (5.00) at Berlin store S02
    store, tea, _ = shop
    order = _pickup(shop, "o-1", prepaid=True, member=make_member())

    # when the store reports it picked, ready and collected at 23:30 UTC on 1 March
    _from_store(order, "routed", "picking", "ready", "collected")

    # then it is one online sale of S02 on Berlin's 2 March, with its lines, and no till tender
    row = DailyStoreSales.objects.get()
    assert (row.day, row.store_id, row.channel) == (date(2026, 3, 2), store.id, "online")
    assert (row.sales_count, row.returns_count, row.lines_count, row.units) == (1, 0, 1, Decimal("2"))
    assert (row.total, row.tax_total, row.member_sales_count, row.member_total) == (
        Decimal("5.00"),
        Decimal("0.33"),
        1,
        Decimal("5.00"),
    )
    assert list(DailyProductSales.objects.values_list("store_id", "product_id", "quantity", "total")) == [
        (store.id, tea.id, Decimal("2"), Decimal("5.00"))
    ]
    assert DailyChainProductSales.objects.get().total == Decimal("5.00")
    assert not DailyTender.objects.exists()
    # and the dashboard's online-versus-store chart shows it online
    figures = dashboard_figures(**MARCH)
    assert figures["channels"] == {"store": "0.00", "online": "5.00"}
    assert (figures["totals"]["sales"], figures["totals"]["total"]) == (1, "5.00")
    assert dashboard_figures(**MARCH, store_ids=[store.id])["channels"]["online"] == "5.00"


def test_an_order_not_yet_handed_over_or_cancelled_is_no_sale(shop):
    # given a prepaid order ready at the store and another cancelled
    ready = _pickup(shop, "o-1", prepaid=True)
    _from_store(ready, "routed", "picking", "ready")
    cancelled = _pickup(shop, "o-2", prepaid=True)
    order_status_set(order=cancelled, status=OrderStatus.CANCELLED)

    # then neither is on the dashboards
    assert not DailyStoreSales.objects.exists()
    assert not RolledUpOrder.objects.exists()


def test_a_pickup_order_paid_at_the_till_counts_once_as_that_stores_sale(shop):
    # given an order paid at the till (not prepaid) for 2 teas, whose till sale synced and was counted
    store, tea, _ = shop
    order = _pickup(shop, "o-1", prepaid=False)
    till_sale = make_completed_sale(
        store, lines=[(tea, "2", "5.00")], tenders=[("cash", "5.00")], completed_at=COLLECTED_AT
    )
    sales_rollup_record(sale=till_sale)

    # when the store reports the order collected
    _from_store(order, "routed", "picking", "ready", "collected")

    # then the dashboards count one sale of 5.00, a store sale, and nothing online
    figures = dashboard_figures(**MARCH)
    assert figures["channels"] == {"store": "5.00", "online": "0.00"}
    assert (figures["totals"]["sales"], figures["totals"]["total"]) == (1, "5.00")
    assert [(p["name"], p["quantity"]) for p in figures["top_products"]] == [("Tea", "2.000")]
    assert not RolledUpOrder.objects.exists()


def test_an_order_is_counted_once_however_often_its_handover_is_reported(shop):
    # given a prepaid order collected and counted
    order = _pickup(shop, "o-1", prepaid=True)
    _from_store(order, "routed", "picking", "ready", "collected")

    # when the store's "collected" arrives again and the rollup is asked again
    _from_store(order, "collected")
    again = online_orders_rollup_record(orders=[Order.objects.get(pk=order.pk)])

    # then it is still one sale of 5.00
    assert again == set()
    assert list(DailyStoreSales.objects.values_list("sales_count", "total")) == [(1, Decimal("5.00"))]


def test_delivered_orders_are_online_sales_of_the_chain_without_a_store(shop):
    # given two delivery orders of 1 and 3 teas (routed to no store), shipped
    store, tea, key = shop
    address = {"address": "Main St 1", "postcode": "10115", "city": "Berlin"}
    orders = [
        order_place(
            api_key=key,
            reference=f"d-{quantity}",
            fulfilment="delivery",
            items=[OrderItem(sku="T1", quantity=Decimal(quantity))],
            **address,
        )[0]
        for quantity in ("1", "3")
    ]
    for order in orders:
        order_status_set(order=order, status=OrderStatus.SHIPPED)

    # when both are delivered
    for order in orders:
        order_status_set(order=order, status=OrderStatus.DELIVERED)

    # then they are one row of online sales without a store, on the deployment's day
    today = timezone.localdate()
    row = DailyStoreSales.objects.get()
    assert (row.day, row.store_id, row.channel, row.sales_count, row.total) == (
        today,
        None,
        "online",
        2,
        Decimal("10.00"),
    )
    assert not DailyProductSales.objects.exists()  # a store's products: none of them
    # and chain-wide they are online sales and best sellers; a store's own figures leave them out
    chain = dashboard_figures(date_from=today, date_to=today)
    assert chain["channels"] == {"store": "0.00", "online": "10.00"}
    assert (chain["totals"]["sales"], chain["totals"]["total"]) == (2, "10.00")
    assert [(p["name"], p["total"]) for p in chain["top_products"]] == [("Tea", "10.00")]
    assert [(s["code"], s["total"]) for s in chain["stores"]] == [("S02", "0.00")]
    assert dashboard_figures(date_from=today, date_to=today, store_ids=[store.id])["channels"] == {
        "store": "0.00",
        "online": "0.00",
    }
