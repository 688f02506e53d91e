"""Faults between stores and the cloud, and processes killed mid-sync: nothing lost, nothing doubled."""

import os
import signal
import time

import pytest

from tests.system.fault_proxy import FaultProxy

pytestmark = pytest.mark.processes

SELL = (
    "from decimal import Decimal as D; from retail.stock.services import stock_move\n"
    "from retail.members.services import member_create, points_post\n"
    "from retail.stores.models import Store; from retail.catalog.models import Product\n"
    "import itertools, uuid\n"
    "s = Store.objects.get(code='{code}'); ps = list(Product.objects.order_by('sku')[:5])\n"
    "m = member_create(number='{code}-' + uuid.uuid4().hex[:8], first_name='{code}')\n"
    "for i in range({n}):\n"
    "    stock_move(store_id=s.id, product_id=ps[i % 5].id, kind='sale', quantity=D('-1'))\n"
    "    points_post(member_id=m.id, kind='earn', points=1)\n"
)


def _assert_exactly_once(cloud, store):
    """Every event of the store is at the cloud exactly once and the cloud's ack equals its head."""
    code = store.code
    local = store.value("select count(*) from stock_stockmovement where origin=?", code)
    assert cloud.value("select count(*) from stock_stockmovement where origin=?", code) == local
    assert cloud.value("select count(*) from members_pointsentry where origin=?", code) == store.value(
        "select count(*) from members_pointsentry where origin=?", code
    )
    head = store.value("select max(seq) from outbox_event where origin=?", code)
    ack = cloud.value(
        "select ack_seq from cloud_sync_storesyncstate ss join stores_store s on s.id=ss.store_id where s.code=?",
        code,
    )
    assert ack == head
    assert cloud.value("select count(*) from cloud_sync_quarantinedevent") == 0


def _catalog(node):
    # Event payloads carry times at millisecond precision (DjangoJSONEncoder): compare at that precision.
    rows = node.query(
        "select product_id, store_id, amount, effective_from from catalog_price where store_id is null order by 1, 4"
    )
    return [(p, s, a, t[:23]) for p, s, a, t in rows]


def test_after_any_faults_and_a_clean_sync_every_event_is_at_the_cloud_once(chain):
    cloud, stores = chain
    proxy = FaultProxy(cloud.port, seed=7, fault_rate=0.5).start()
    try:
        for store in stores.values():
            store.manage("sync", "--once", "--quiet")  # the snapshot, directly
            store.shell(
                f"from store_node.sync.models import SyncCredential as C; C.objects.update(cloud_url='{proxy.url}')"
            )
        for round_ in range(3):
            for code, store in stores.items():
                store.shell(SELL.format(code=code, n=30))
                store.manage("sync", "--once", "--quiet", check=False, timeout=180)
            cloud.shell(
                "from decimal import Decimal as D; from retail.catalog.models import Product; from retail.catalog.services import price_set\n"
                f"price_set(product=Product.objects.order_by('sku').first(), amount=D('{round_ + 1}.50'))\n"
            )
        assert sum(proxy.counts.get(f, 0) for f in FaultProxy.FAULTS) >= 5, proxy.counts
        proxy.clean()
        for store in stores.values():
            result = store.manage("sync", "--once", "--quiet", check=False, timeout=180)
            assert result.returncode == 0, result.stdout + result.stderr
    finally:
        proxy.stop()
    for store in stores.values():
        _assert_exactly_once(cloud, store)
        assert _catalog(store) == _catalog(cloud)


def test_a_store_killed_mid_push_and_mid_pull_loses_and_doubles_nothing(chain):
    cloud, stores = chain
    s01 = stores["S01"]
    s01.manage("sync", "--once", "--quiet")
    s01.shell(SELL.format(code="S01", n=400))
    cloud.shell(
        "from decimal import Decimal as D; from retail.catalog.models import Product; from retail.catalog.services import price_set\n"
        "for p in Product.objects.all(): price_set(product=p, amount=D('3.33'))\n"
    )
    for delay in (0.8, 1.2, 1.6, 2.0):
        process = s01.spawn("sync", "--once", "--quiet")
        time.sleep(delay)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    result = s01.manage("sync", "--once", "--quiet", check=False, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    _assert_exactly_once(cloud, s01)
    assert _catalog(s01) == _catalog(cloud)


def test_the_cloud_killed_mid_apply_loses_and_doubles_nothing(chain):
    cloud, stores = chain
    s01 = stores["S01"]
    s01.manage("sync", "--once", "--quiet")
    s01.shell(SELL.format(code="S01", n=1500))
    pushing = s01.spawn("sync", "--once", "--quiet")
    time.sleep(2.5)
    for process in cloud.processes:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    cloud.processes.clear()
    pushing.wait(60)
    cloud.serve()
    result = s01.manage("sync", "--once", "--quiet", check=False, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    _assert_exactly_once(cloud, s01)
