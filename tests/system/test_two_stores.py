"""A cloud and two store nodes as separate processes on loopback, each with its own database."""

import time

import pytest

pytestmark = pytest.mark.processes


def _sync(store):
    result = store.manage("sync", "--once", "--quiet", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_two_stores_reconcile_through_the_cloud_exactly_once(chain):
    cloud, stores = chain
    s01, s02 = stores["S01"], stores["S02"]
    # given both stores loaded the cloud's snapshot
    _sync(s01)
    _sync(s02)
    products = cloud.value("select count(*) from catalog_product")
    assert s01.value("select count(*) from catalog_product") == products == 60
    assert s02.value("select count(*) from catalog_barcode") == cloud.value(
        "select count(*) from catalog_barcode"
    )
    product = cloud.value("select id from catalog_product order by sku limit 1")
    # when S01 sells offline, signs up a member and gives points, S02 counts stock,
    s01.shell(
        "from decimal import Decimal as D; from django.db import transaction\n"
        "from retail.stock.services import stock_move; from retail.members.services import member_create, points_post\n"
        "from retail.stores.models import Store\n"
        "s = Store.objects.get(code='S01')\n"
        f"stock_move(store_id=s.id, product_id='{product}', kind='sale', quantity=D('-3'))\n"
        "m = member_create(number='S01-000001', first_name='Ada', phone='+4930999')\n"
        "points_post(member_id=m.id, kind='earn', points=10)\n"
    )
    s02.shell(
        "from decimal import Decimal as D; from retail.stock.services import stock_count\n"
        "from retail.stores.models import Store\n"
        f"stock_count(store_id=Store.objects.get(code='S02').id, product_id='{product}', counted=D('7'))\n"
    )
    # and head office changes the product's price
    cloud.shell(
        "from decimal import Decimal as D; from retail.catalog.models import Product; from retail.catalog.services import price_set\n"
        f"price_set(product=Product.objects.get(pk='{product}'), amount=D('9.99'))\n"
    )
    # and every node syncs (S01 twice: once more to learn what S02 pushed after it)
    _sync(s01)
    _sync(s02)
    _sync(s01)
    _sync(s01)  # a repeat changes nothing
    # then the cloud holds S01's events exactly once
    hex_product = product.replace("-", "")
    assert cloud.value("select count(*) from stock_stockmovement where origin='S01'") == 1
    assert cloud.value("select count(*) from members_pointsentry where origin='S01'") == 1
    assert (
        cloud.value(
            "select ack_seq from cloud_sync_storesyncstate ss join stores_store s on s.id = ss.store_id where s.code='S01'"
        )
        == 3
    )
    # and S02 knows S01's member with its points, and S01's stock level
    assert s02.query("select first_name, points_balance from members_member where number='S01-000001'") == [
        ("Ada", 10)
    ]
    s01_id = cloud.value("select id from stores_store where code='S01'")
    s01_level_seen_by_s02 = s02.value(
        "select on_hand from stock_stocklevel where store_id=? and product_id=?", s01_id, hex_product
    )
    assert s01_level_seen_by_s02 == cloud.value(
        "select on_hand from stock_stocklevel where store_id=? and product_id=?", s01_id, hex_product
    )
    # and both stores have head office's new price
    for store in (s01, s02):
        amounts = store.query(
            "select amount from catalog_price where product_id=? order by effective_from desc limit 1",
            hex_product,
        )
        assert str(amounts[0][0]) in ("9.99", "9.990")
    # and the status shows nothing waiting
    assert (
        s01.shell("from store_node.sync.selectors import sync_status; print(sync_status().events_waiting)")
        == "0"
    )


def test_an_online_store_sees_a_price_change_within_seconds_through_the_nudge(chain):
    cloud, stores = chain
    s01 = stores["S01"]
    _sync(s01)
    product = cloud.value("select id from catalog_product order by sku limit 1")
    worker = s01.spawn("syncworker", "--interval", "60", env={"LOG_LEVEL": "INFO"})
    try:
        time.sleep(3)  # the worker's first cycle and the socket
        cloud.shell(
            "from decimal import Decimal as D; from retail.catalog.models import Product; from retail.catalog.services import price_set\n"
            f"price_set(product=Product.objects.get(pk='{product}'), amount=D('7.77'))\n"
        )
        changed_at = time.monotonic()
        hex_product = product.replace("-", "")
        while time.monotonic() - changed_at < 20:
            if s01.value(
                "select count(*) from catalog_price where product_id=? and amount='7.77'", hex_product
            ) or s01.value(
                "select count(*) from catalog_price where product_id=? and amount=7.77", hex_product
            ):
                break
            time.sleep(0.05)
        else:
            pytest.fail(
                "the price did not reach the store within 20 s (polling is every 60 s: the nudge failed)"
            )
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=10)
    # and it came on the socket itself, not by a pull the socket asked for
    assert "applied head office's news from the nudge socket: 1 events" in output
