"""Click and collect end to end: a cloud and a store as daphne processes on loopback.

An order placed through the omnichannel API for pickup reaches the store through sync, shows on
the store's handheld, is picked and marked ready there, and the cloud's API shows it ready; once
collected at the till (prepaid), its goods are off the stock at the store and at the cloud.
"""

import re
from decimal import Decimal

import httpx
import pytest

pytestmark = pytest.mark.processes


def _sync(store, *, answers: int = 0):
    """One sync cycle; ``answers`` own events appended by the pull itself are left for the next push."""
    result = store.manage("sync", "--once", "--quiet", check=False)
    assert result.returncode == (1 if answers else 0), result.stdout + result.stderr
    assert f"still waiting {answers}" in result.stdout, result.stdout


def _level(node, store_id: str, product_id: str) -> Decimal:
    value = node.value(
        "select on_hand from stock_stocklevel where store_id=? and product_id=?",
        store_id.replace("-", ""),
        product_id.replace("-", ""),
    )
    return Decimal(str(value))


def test_a_pickup_order_reaches_the_store_is_picked_and_its_status_reaches_the_api(chain):
    cloud, stores = chain
    s01 = stores["S01"]
    _sync(s01)  # the store loads head office's snapshot
    key = cloud.shell(
        "from cloud.api.services import api_key_create as c\nprint(c(name='Web shop', rate_limit_per_minute=1000)[1])"
    )
    sku = cloud.value(
        "select p.sku from stock_stocklevel l join catalog_product p on p.id = l.product_id "
        "join stores_store s on s.id = l.store_id where s.code = 'S01' and l.on_hand >= 2 and p.unit = 'each' "
        "order by p.sku limit 1"
    )
    api = httpx.Client(base_url=f"{cloud.url}/api/v1", headers={"X-API-Key": key}, timeout=30)

    # given the web shop places an order for 2 to pick up at S01
    response = api.post(
        "/orders",
        json={
            "reference": "web-1",
            "fulfilment": "pickup",
            "store": "S01",
            "prepaid": True,
            "customer_name": "Ada Lovelace",
            "lines": [{"sku": sku, "quantity": "2"}],
        },
    )
    assert response.status_code == 201, response.text
    number = response.json()["number"]
    assert response.json()["status"] == "placed"

    # when the store syncs, the order is in its handheld's list of orders to pick (its answer
    # "routed" is appended by that pull and goes with the next push)
    _sync(s01, answers=1)
    s01.serve()
    with httpx.Client(base_url=s01.url, timeout=30) as handheld:
        # the handheld asks for a sign-in first: the demo's cashier c101, whose PIN came with the
        # store's snapshot
        login = handheld.get("/h/orders/", follow_redirects=True)
        assert login.url.path == "/h/login", login.url
        token = re.search(r'name="csrf-token" content="([^"]+)"', login.text).group(1)
        signed_in = handheld.post(
            "/h/login",
            data={"username": "c101", "pin": "1111", "next": "/h/orders/"},
            headers={"X-CSRFToken": token},
        )
        assert (signed_in.status_code, signed_in.headers["location"]) == (302, "/h/orders/"), signed_in.text
        listing = handheld.get("/h/orders/")
        assert listing.status_code == 200
        assert number in listing.text and "Ada Lovelace" in listing.text
        pick_url = re.search(r'href="(/h/orders/[0-9a-f-]+/)"', listing.text).group(1)

        # and the picker scans both items and marks the order ready
        page = handheld.get(pick_url)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
        for _ in range(2):
            scanned = handheld.post(pick_url + "scan", data={"code": sku}, headers={"X-CSRFToken": token})
            assert scanned.status_code == 200, scanned.text
        assert "2 of 2" in scanned.text
        ready = handheld.post(pick_url + "ready", headers={"X-CSRFToken": token})
        assert ready.status_code == 302, ready.text

    # and the store syncs its statuses to head office
    _sync(s01)

    # then the API shows the order ready, having gone through the store
    shown = api.get(f"/orders/{number}").json()
    assert shown["status"] == "ready"
    assert [h["status"] for h in shown["history"]] == ["placed", "routed", "picking", "ready"]
    assert [h["note"] for h in shown["history"]][2:] == ["by store S01: by c101"] * 2  # who picked it

    # when the customer collects the prepaid order at S01's till, and S01 syncs
    store_id = cloud.value("select id from stores_store where code='S01'")
    product_id = cloud.value("select id from catalog_product where sku=?", sku)
    before = _level(cloud, store_id, product_id)
    assert _level(s01, store_id, product_id) == before
    with httpx.Client(base_url=f"{s01.url}/api/checkout/", timeout=30) as till:
        login = till.post("terminal/login", json={"terminal": "T01", "username": "c101", "pin": "1111"})
        assert login.status_code == 201, login.text
        till.headers["Authorization"] = f"Terminal {login.json()['token']}"
        [ready_here] = till.get("orders/ready").json()
        collected = till.post(f"orders/{ready_here['id']}/collect")
        assert (collected.status_code, collected.json()["status"]) == (200, "collected"), collected.text
    _sync(s01)

    # then its 2 units are off the stock at the store and at the cloud, and no longer held there
    assert _level(s01, store_id, product_id) == before - 2
    assert _level(cloud, store_id, product_id) == before - 2
    [at_s01] = api.get(f"/products/{sku}/availability", params={"store": "S01"}).json()["stores"]
    assert (Decimal(at_s01["on_hand"]), Decimal(at_s01["reserved"])) == (before - 2, 0)
    assert api.get(f"/orders/{number}").json()["status"] == "collected"
    assert cloud.value("select count(*) from cloud_sync_quarantinedevent") == 0
    api.close()


def test_an_order_routed_before_the_stores_first_sync_arrives_with_its_snapshot(chain):
    cloud, stores = chain
    s02 = stores["S02"]
    key = cloud.shell(
        "from cloud.api.services import api_key_create as c\nprint(c(name='Web shop', rate_limit_per_minute=1000)[1])"
    )
    sku = cloud.value(
        "select p.sku from stock_stocklevel l join catalog_product p on p.id = l.product_id "
        "join stores_store s on s.id = l.store_id where s.code = 'S02' and l.on_hand >= 1 and p.unit = 'each' "
        "order by p.sku limit 1"
    )
    # given an order for pickup at S02, placed before S02 ever synced
    with httpx.Client(base_url=f"{cloud.url}/api/v1", headers={"X-API-Key": key}, timeout=30) as api:
        response = api.post(
            "/orders",
            json={"reference": "web-early", "fulfilment": "pickup", "store": "S02", "customer_name": "Grace",
                  "lines": [{"sku": sku, "quantity": "1"}]},
        )  # fmt: skip
        assert response.status_code == 201, response.text
        number = response.json()["number"]

        # when S02 syncs for the first time: it loads a snapshot whose cursor is past order.placed
        _sync(s02)

        # then the store holds the order to pick, and head office heard it is routed in that cycle
        assert s02.query("select number, status from store_orders_pickuporder") == [(number, "routed")]
        shown = api.get(f"/orders/{number}").json()
        assert [h["status"] for h in shown["history"]] == ["placed", "routed"]
