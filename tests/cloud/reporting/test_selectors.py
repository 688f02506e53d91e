from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from cloud.reporting.selectors import dashboard_figures, store_freshness
from cloud.reporting.services import sales_rollup_record
from tests.factories import make_completed_sale, make_member, make_product, make_store

pytestmark = pytest.mark.django_db


def _sale(store, product, total, day, **kw):
    sale = make_completed_sale(
        store, lines=[(product, "1", total)], completed_at=datetime(2026, 3, day, 12, tzinfo=UTC), **kw
    )
    sales_rollup_record(sale=sale)


def test_dashboard_figures_come_from_the_rollups(django_assert_num_queries):
    # given two stores' sales over two days, one by a member, one paid by card
    s1, s2 = make_store("S01", time_zone="UTC"), make_store("S02", time_zone="UTC")
    apple, pear = make_product(name="Apple"), make_product(name="Pear")
    _sale(s1, apple, "10.00", 1, member=make_member())
    _sale(s1, pear, "4.00", 2, tenders=[("card", "4.00")])
    _sale(s2, apple, "6.00", 2)

    # when the dashboard asks for March 1-2 (6 grouped queries, stores, and their last contact)
    with django_assert_num_queries(8):
        figures = dashboard_figures(date_from=date(2026, 3, 1), date_to=date(2026, 3, 2))

    # then
    assert figures["totals"] == {
        "sales": 3,
        "returns": 0,
        "total": "20.00",
        "tax": "0.00",
        "discounts": "0.00",
        "basket_size": "1.00",
        "average_sale": "6.67",
        "member_share": "0.5000",
    }
    assert [(d["day"], d["sales"], d["total"]) for d in figures["days"]] == [
        ("2026-03-01", 1, "10.00"),
        ("2026-03-02", 2, "10.00"),
    ]
    assert [(s["code"], s["sales"], s["total"]) for s in figures["stores"]] == [
        ("S01", 2, "14.00"),
        ("S02", 1, "6.00"),
    ]
    assert figures["tenders"] == [
        {"kind": "cash", "amount": "16.00", "count": 2},
        {"kind": "card", "amount": "4.00", "count": 1},
    ]
    assert figures["channels"] == {"store": "20.00", "online": "0.00"}
    assert [(p["name"], p["total"]) for p in figures["top_products"]] == [
        ("Apple", "16.00"),
        ("Pear", "4.00"),
    ]

    # and for one store only, its own figures and products
    own = dashboard_figures(date_from=date(2026, 3, 1), date_to=date(2026, 3, 2), store_ids=[s2.id])
    assert own["totals"]["total"] == "6.00"
    assert [s["code"] for s in own["stores"]] == ["S02"]
    assert [(p["name"], p["total"]) for p in own["top_products"]] == [("Apple", "6.00")]


def test_a_store_not_heard_from_recently_is_provisional():
    from cloud.sync.models import StoreSyncState

    now = timezone.now()
    fresh, stale, _ = make_store("S01"), make_store("S02"), make_store("S03")
    StoreSyncState.objects.create(store=fresh, last_contact_at=now - timedelta(seconds=30))
    StoreSyncState.objects.create(store=stale, last_contact_at=now - timedelta(hours=2))
    result = {s.code: (s.age_seconds, s.provisional) for s in store_freshness(now=now)}
    assert result == {"S01": (30, False), "S02": (7200, True), "S03": (None, True)}


def test_top_products_over_months_add_whole_months_and_the_days_around_them():
    # given sales of one product on Feb 20, Mar 5 and Apr 5 and of another only on Apr 20
    store = make_store(time_zone="UTC")
    apple, pear = make_product(name="Apple"), make_product(name="Pear")
    for month, day in ((2, 20), (3, 5), (4, 5)):
        sale = make_completed_sale(
            store, lines=[(apple, "1", "2.00")], completed_at=datetime(2026, month, day, 12, tzinfo=UTC)
        )
        sales_rollup_record(sale=sale)
    sale = make_completed_sale(
        store, lines=[(pear, "1", "9.00")], completed_at=datetime(2026, 4, 20, tzinfo=UTC)
    )
    sales_rollup_record(sale=sale)

    # when the span is Feb 15 - Apr 10 (part of Feb, all of March, part of April)
    figures = dashboard_figures(date_from=date(2026, 2, 15), date_to=date(2026, 4, 10))

    # then all three apple sales count and the pear after the span does not
    assert [(p["name"], p["total"], p["quantity"]) for p in figures["top_products"]] == [
        ("Apple", "6.00", "3.000")
    ]
    assert figures["totals"]["total"] == "6.00"
