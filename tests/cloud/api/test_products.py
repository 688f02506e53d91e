from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cloud.api.views import ProductAvailabilityApi
from retail.catalog.models import Price
from retail.stock.services import stock_move
from tests.factories import make_product, make_store

pytestmark = pytest.mark.django_db


def test_products_list_with_their_chain_price(api, django_assert_num_queries):
    # given two products, one with a newer price, and one inactive product
    apple = make_product("1.99", name="Apple", sku="1001", barcode="4000000000017")
    make_product("0.99", name="Pear", sku="1002")
    make_product("5.00", name="Gone", sku="1003", active=False)
    Price.objects.create(
        product=apple, amount=Decimal("2.19"), effective_from=timezone.now() - timedelta(days=1)
    )
    Price.objects.create(
        product=apple, amount=Decimal("9.99"), effective_from=timezone.now() + timedelta(days=1)
    )

    # when the shop lists them (key, count, page, barcodes, prices)
    with django_assert_num_queries(5):
        response = api.get("/api/v1/products")

    # then it sees the price in effect now
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [(p["sku"], p["price"], p["barcodes"]) for p in body["results"]] == [
        ("1001", "2.19", ["4000000000017"]),
        ("1002", "0.99", [body["results"][1]["barcodes"][0]]),
    ]


def test_products_search_by_name_sku_or_barcode(api):
    make_product(name="Bananas", sku="2001", barcode="4000000000024")
    make_product(name="Apples", sku="2002")
    assert [p["sku"] for p in api.get("/api/v1/products?search=banan").json()["results"]] == ["2001"]
    assert [p["sku"] for p in api.get("/api/v1/products?search=4000000000024").json()["results"]] == ["2001"]
    assert [p["sku"] for p in api.get("/api/v1/products?search=2002").json()["results"]] == ["2002"]


def test_an_unknown_product_is_a_404_with_a_code(api):
    response = api.get("/api/v1/products/nope/availability")
    assert response.status_code == 404
    assert response.json() == {"detail": "no product with SKU 'nope'", "code": "product_not_found"}


def test_availability_gives_each_stores_price_and_stock(api, django_assert_num_queries):
    # given three stores; S02 has its own price; stock 10 in S01, 2 in S02, none in S03
    s1, s2, _ = make_store("S01"), make_store("S02"), make_store("S03")
    make_store("S04", active=False)
    product = make_product("3.00", sku="3001")
    Price.objects.create(product=product, store=s2, amount=Decimal("2.50"), effective_from=timezone.now())
    stock_move(store_id=s1.id, product_id=product.id, kind="receipt", quantity=Decimal("10"))
    stock_move(store_id=s2.id, product_id=product.id, kind="receipt", quantity=Decimal("2"))

    # when the shop asks (its key, then the product with every store's stock and prices in one statement)
    with django_assert_num_queries(2):
        response = api.get("/api/v1/products/3001/availability")

    # then
    assert response.status_code == 200
    assert response.json() == {
        "sku": "3001",
        "stores": [
            {
                "store": "S01",
                "name": s1.name,
                "price": "3.00",
                "on_hand": "10.000",
                "reserved": "0.000",
                "status": "in_stock",
            },
            {
                "store": "S02",
                "name": s2.name,
                "price": "2.50",
                "on_hand": "2.000",
                "reserved": "0.000",
                "status": "low",
            },
            {
                "store": "S03",
                "name": "Store " + _.name.split()[-1],
                "price": "3.00",
                "on_hand": "0.000",
                "reserved": "0.000",
                "status": "out",
            },
        ],
    }
    store_fields = set(ProductAvailabilityApi.OutputSerializer.StoreSerializer().fields)
    assert all(set(s) == store_fields for s in response.json()["stores"])
    only = api.get("/api/v1/products/3001/availability?store=S02,S03").json()
    assert [s["store"] for s in only["stores"]] == ["S02", "S03"]
