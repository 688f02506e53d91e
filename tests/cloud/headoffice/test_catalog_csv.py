from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloud.headoffice.catalog_csv import catalog_export, catalog_import, prices_export, prices_import
from retail.catalog.models import Barcode, Price, Product
from retail.outbox.models import Event
from tests.factories import ean13, make_product, make_store, make_tax_class

pytestmark = pytest.mark.django_db

HEADER = "sku,name,unit,tax_class,active,barcodes,price\n"


def _state():
    return (
        sorted(Product.objects.values_list("sku", "name", "unit", "tax_class", "active")),
        sorted(Barcode.objects.values_list("code", "product__sku")),
        sorted(Price.objects.values_list("product__sku", "store", "amount")),
        Event.objects.count(),
    )


def test_a_file_with_bad_rows_reports_each_and_changes_nothing():
    # given a catalog with one product and a file with good rows mixed with bad ones
    make_tax_class("STD")
    make_product("1.00", sku="100", name="Milk", barcode="4000000000013")
    before = _state()
    data = HEADER + "\n".join(
        [
            "100,Milk 1l,each,STD,true,4000000000013,1.10",  # fine
            "200,Bread,each,STD,true,,2.50",  # fine
            "300,Eggs,dozen,STD,true,,2.00",  # bad unit
            "400,Jam,each,XXX,true,,3.00",  # unknown tax class
            "500,Tea,each,STD,true,4000000000018,1.00",  # bad check digit
            "200,Bread again,each,STD,true,,2.50",  # duplicate SKU
            "600,Salt,each,STD,true,,-1",  # negative price
            "700,,each,STD,true,,1.00",  # no name
            "800,Pepper,each,STD,maybe,,1.00",  # not a boolean
        ]
    )

    # when it is imported
    report = catalog_import(data=data)

    # then each bad row is reported with its line and reason, and nothing at all was written
    assert not report.applied
    assert [(r.line, r.key) for r in report.refused] == [
        (4, "300"),
        (5, "400"),
        (6, "500"),
        (7, "200"),
        (8, "600"),
        (9, "700"),
        (10, "800"),
    ]
    assert report.refused[0].reason == "unit must be one of each, kg: 'dozen'"
    assert report.refused[1].reason == "unknown tax class 'XXX'"
    assert report.refused[2].reason == "check digit wrong: expected 3, got 8"
    assert report.refused[3].reason == "SKU 200 is also on line 3"
    assert _state() == before


def test_a_barcode_of_a_product_not_in_the_file_is_refused():
    make_tax_class("STD")
    make_product(sku="100", barcode="4000000000013")
    report = catalog_import(data=HEADER + "200,Bread,each,STD,true,4000000000013,1.00\n")
    assert [(r.line, r.reason) for r in report.refused] == [
        (2, "barcode 4000000000013 belongs to product 100")
    ]
    assert not Product.objects.filter(sku="200").exists()


def test_a_good_file_creates_changes_and_appends_events_once():
    # given one product
    make_tax_class("STD")
    make_tax_class("RED", "0.07")
    make_product("1.00", sku="100", name="Milk", barcode="4000000000013")
    Event.objects.all().delete()
    data = (
        HEADER + "100,Milk 1l,each,RED,true,4000000000013 4000000000020,1.10\n200,Bread,kg,STD,false,,2.50\n"
    )

    # when imported twice
    first = catalog_import(data=data)
    second = catalog_import(data=data)

    # then the first created one, changed one, and the second changed nothing
    assert (first.applied, first.created, first.changed, first.unchanged, first.prices) == (True, 1, 1, 0, 2)
    assert (second.created, second.changed, second.unchanged, second.prices) == (0, 0, 2, 0)
    milk = Product.objects.get(sku="100")
    assert (milk.name, milk.tax_class_id) == ("Milk 1l", "RED")
    assert sorted(milk.barcodes.values_list("code", flat=True)) == ["4000000000013", "4000000000020"]
    assert Product.objects.get(sku="200").active is False
    assert sorted(Event.objects.values_list("type", flat=True)) == ["price.set"] * 2 + ["product.updated"] * 2
    event = Event.objects.get(type="product.updated", payload__sku="100")
    assert event.payload["barcodes"] == ["4000000000013", "4000000000020"]


def test_a_barcode_moves_between_products_of_the_same_file():
    make_tax_class("STD")
    make_product(sku="100", barcode="4000000000013")
    make_product(sku="200", barcode="4000000000020")
    report = catalog_import(
        data=HEADER + "100,A,each,STD,true,4000000000020,\n200,B,each,STD,true,4000000000013,\n"
    )
    assert report.applied
    assert sorted(Barcode.objects.values_list("code", "product__sku")) == [
        ("4000000000013", "200"),
        ("4000000000020", "100"),
    ]


def test_missing_columns_refuse_the_whole_file():
    report = catalog_import(data="sku,name\n1,A\n")
    assert [(r.line, r.reason) for r in report.refused] == [(1, "missing columns: tax_class, unit")]


def test_the_export_imports_back_to_no_change():
    make_tax_class("STD")
    for n in range(5):
        make_product(f"{n}.99", sku=f"90{n}", barcode=ean13(f"41{n:010d}"))
    exported = "".join(catalog_export())
    assert exported.splitlines()[0] == HEADER.strip()
    report = catalog_import(data=exported)
    assert (report.applied, report.unchanged, report.created, report.changed) == (True, 5, 0, 0)


def test_prices_import_sets_store_prices_and_refuses_other_stores_for_a_manager():
    # given two stores and a product
    s1, _ = make_store("S01"), make_store("S02")
    make_product("1.00", sku="100")
    data = "sku,store,amount,effective_from\n100,S01,0.90,2026-05-01\n100,,1.20,2026-05-01T00:00:00Z\n"

    # when S01's manager imports it, then head office
    refused = prices_import(data=data, store=s1)
    applied = prices_import(data=data)

    # then the manager's import refused the chain-wide row and wrote nothing; head office's wrote both
    assert [(r.line, r.reason) for r in refused.refused] == [(3, "you may only set prices of store S01")]
    assert (applied.applied, applied.created) == (True, 2)
    assert Event.objects.filter(type="price.set").count() == 2
    assert sorted(Price.objects.values_list("store__code", "amount"), key=str) == [
        ("S01", Decimal("0.90")),
        (None, Decimal("1.00")),
        (None, Decimal("1.20")),
    ]
    lines = "".join(prices_export()).splitlines()
    assert lines[0] == "sku,store,amount,effective_from" and len(lines) == 4


@given(
    st.lists(st.sampled_from(["good", "bad_unit", "bad_price", "bad_tax", "dup"]), min_size=1, max_size=12)
)
def test_any_file_with_a_bad_row_changes_nothing(kinds):
    make_tax_class("STD")
    before = _state()
    lines = []
    for n, kind in enumerate(kinds):
        sku = "1" if kind == "dup" else f"{n + 10}"
        unit = "box" if kind == "bad_unit" else "each"
        price = "1.234" if kind == "bad_price" else "1.00"
        tax = "NOPE" if kind == "bad_tax" else "STD"
        lines.append(f"{sku},P{n},{unit},{tax},true,,{price}")
    report = catalog_import(data=HEADER + "\n".join(lines))
    if set(kinds) - {"good"} - ({"dup"} if kinds.count("dup") == 1 else set()):
        assert not report.applied and _state() == before
    else:
        assert report.applied and Product.objects.count() == len(before[0]) + len(kinds)
    Product.objects.all().delete()
    Event.objects.all().delete()
