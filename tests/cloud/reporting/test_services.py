from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from cloud.reporting.models import DailyProductSales, DailyStoreSales, DailyTender
from cloud.reporting.services import sales_rollup_record
from tests.factories import make_completed_sale, make_member, make_product, make_store

pytestmark = pytest.mark.django_db


def test_a_sale_is_counted_into_its_store_day_tenders_and_products():
    # given a Berlin store and a member's sale at 23:30 UTC, which is already the next day in Berlin
    store = make_store("S01", time_zone="Europe/Berlin")
    apple, pear = make_product(), make_product()
    sale = make_completed_sale(
        store,
        lines=[(apple, "2", "3.98"), (pear, "1", "1.50")],
        tenders=[("card", "5.00"), ("cash", "0.48")],
        member=make_member(),
        completed_at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC),
        tax_total=Decimal("0.87"),
        points_earned=5,
    )

    # when it is rolled up
    assert sales_rollup_record(sale=sale) is True

    # then the Berlin day 2 March holds it
    row = DailyStoreSales.objects.get()
    assert (row.day, row.store_id, row.channel) == (date(2026, 3, 2), store.id, "store")
    assert (row.sales_count, row.returns_count, row.lines_count) == (1, 0, 2)
    assert (row.total, row.tax_total, row.units) == (Decimal("5.48"), Decimal("0.87"), Decimal("3"))
    assert (row.member_sales_count, row.member_total, row.points_earned) == (1, Decimal("5.48"), 5)
    assert sorted(DailyTender.objects.values_list("kind", "count", "amount")) == [
        ("card", 1, Decimal("5.00")),
        ("cash", 1, Decimal("0.48")),
    ]
    assert sorted(DailyProductSales.objects.values_list("product__sku", "quantity", "total")) == sorted(
        [(apple.sku, Decimal("2"), Decimal("3.98")), (pear.sku, Decimal("1"), Decimal("1.50"))]
    )


def test_the_same_sale_twice_is_counted_once():
    # given a sale already rolled up
    store = make_store()
    sale = make_completed_sale(store, lines=[(make_product(), "1", "2.00")])
    sales_rollup_record(sale=sale)

    # when it is applied again
    again = sales_rollup_record(sale=sale)

    # then nothing changes
    assert again is False
    assert DailyStoreSales.objects.get().sales_count == 1
    assert DailyStoreSales.objects.get().total == Decimal("2.00")


def test_a_return_subtracts_from_the_day():
    # given a sale of 3 and a return of one of them on the same day
    store = make_store(time_zone="UTC")
    product = make_product()
    sale = make_completed_sale(store, lines=[(product, "3", "6.00")])
    refund = make_completed_sale(
        store, kind="return", original_sale=sale, lines=[(product, "1", "2.00")], tenders=[("cash", "-2.00")]
    )

    # when both are rolled up
    sales_rollup_record(sale=sale)
    sales_rollup_record(sale=refund)

    # then the day shows the net
    row = DailyStoreSales.objects.get()
    assert (row.sales_count, row.returns_count, row.total, row.units) == (1, 1, Decimal("4.00"), Decimal("2"))
    assert DailyTender.objects.get().amount == Decimal("4.00")
    assert DailyProductSales.objects.get().quantity == Decimal("2")


def test_an_open_sale_is_not_counted():
    store = make_store()
    sale = make_completed_sale(store, lines=[(make_product(), "1", "2.00")])
    sale.status = "open"

    assert sales_rollup_record(sale=sale) is False
    assert DailyStoreSales.objects.count() == 0
