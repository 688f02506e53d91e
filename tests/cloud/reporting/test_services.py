from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from cloud.reporting.models import (
    DailyChainProductSales,
    DailyProductSales,
    DailyStoreSales,
    DailyTender,
    MonthlyChainProductSales,
    RolledUpSale,
)
from cloud.reporting.services import sales_rollup_record, sales_rollup_record_many
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


def _figures():
    return (
        sorted(
            DailyStoreSales.objects.values_list(
                "day",
                "store_id",
                "sales_count",
                "returns_count",
                "total",
                "lines_count",
                "units",
                "member_total",
            )
        ),
        sorted(DailyTender.objects.values_list("day", "store_id", "kind", "count", "amount")),
        sorted(DailyProductSales.objects.values_list("day", "store_id", "product_id", "quantity", "total")),
        sorted(DailyChainProductSales.objects.values_list("day", "product_id", "quantity", "total")),
        sorted(MonthlyChainProductSales.objects.values_list("month", "product_id", "quantity", "total")),
    )


def test_a_batch_of_sales_counts_as_the_same_sales_one_by_one_and_each_once():
    # given two stores' sales and a return over two days, one of them already counted
    north, south = make_store("S01", time_zone="UTC"), make_store("S02", time_zone="UTC")
    apple, pear = make_product(), make_product()
    march_1, march_2 = datetime(2026, 3, 1, 10, tzinfo=UTC), datetime(2026, 3, 2, 10, tzinfo=UTC)
    sales = [
        make_completed_sale(north, lines=[(apple, "2", "4.00")], completed_at=march_1, member=make_member()),
        make_completed_sale(north, lines=[(apple, "1", "2.00"), (pear, "3", "4.50")], completed_at=march_1),
        make_completed_sale(
            south, lines=[(pear, "1", "1.50")], tenders=[("card", "1.50")], completed_at=march_2
        ),
    ]
    sales.append(
        make_completed_sale(
            north, kind="return", original_sale=sales[1], lines=[(pear, "1", "1.50")],
            tenders=[("cash", "-1.50")], completed_at=march_2,
        )
    )  # fmt: skip
    sales_rollup_record(sale=sales[0])

    # when the batch (with the counted sale and one sale twice) is rolled up
    counted = sales_rollup_record_many(sales=[*sales, sales[2]])
    batch = _figures()

    # then each sale not yet counted is counted once, exactly as one by one
    assert counted == {sales[1].id, sales[2].id, sales[3].id}
    assert sales_rollup_record_many(sales=sales) == set()
    for model in (DailyStoreSales, DailyTender, DailyProductSales, DailyChainProductSales):
        model.objects.all().delete()
    MonthlyChainProductSales.objects.all().delete()
    RolledUpSale.objects.all().delete()
    for sale in sales:
        sales_rollup_record(sale=sale)
    assert batch == _figures()
    assert batch[0] == sorted(
        [
            (date(2026, 3, 1), north.id, 2, 0, Decimal("10.50"), 3, Decimal("6"), Decimal("4.00")),
            (date(2026, 3, 2), north.id, 0, 1, Decimal("-1.50"), 0, Decimal("-1"), Decimal("0")),
            (date(2026, 3, 2), south.id, 1, 0, Decimal("1.50"), 1, Decimal("1"), Decimal("0")),
        ]
    )
    assert sorted((m, q, t) for m, p, q, t in batch[4] if p == pear.id) == [
        (date(2026, 3, 1), Decimal("3"), Decimal("4.50"))
    ]
