"""The omnichannel story end to end: a cloud and two store nodes as daphne processes on loopback.

A member registers in the web shop, earns points at S01, redeems them at S02 while S01 is offline
(and still selling), buys online for pickup at S02, S02 picks on the handheld, the member collects
and pays at the till. After everyone syncs, the cloud, both stores and the API agree on the
member's balance and ledger, on the stock of every product that moved, and on the order's status.
"""

from __future__ import annotations

import re
from decimal import Decimal

import httpx
import pytest

from tests.system.nodes import handheld_client

pytestmark = pytest.mark.processes


def _sync(store, *, waiting: int = 0) -> None:
    """One sync cycle; ``waiting`` own events appended by the pull itself are left for the next push."""
    result = store.manage("sync", "--once", "--quiet", check=False)
    assert result.returncode == (1 if waiting else 0), result.stdout + result.stderr
    assert f"still waiting {waiting}" in result.stdout, result.stdout


class Till:
    """A cashier at a lane, through the store's checkout API (what the terminal screens call)."""

    def __init__(self, store, *, terminal: str, username: str):
        self.http = httpx.Client(base_url=f"{store.url}/api/checkout/", timeout=30)
        login = self.http.post(
            "terminal/login", json={"terminal": terminal, "username": username, "pin": "1111"}
        )
        assert login.status_code == 201, login.text
        self.http.headers["Authorization"] = f"Terminal {login.json()['token']}"
        self.call("post", "shifts/open", {"opening_float": "100.00"}, expect=201)

    def call(self, method: str, path: str, body: dict | None = None, *, expect: int = 200) -> dict:
        response = self.http.request(method, path, json=body)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    def sale(self, *, lines: list[tuple[str, int]], member: str | None = None, points: int = 0) -> dict:
        """Ring ``lines`` of (sku, quantity), attach ``member``, pay ``points`` then cash."""
        sale = self.call("post", "sales", expect=201)
        for sku, quantity in lines:
            self.call("post", f"sales/{sale['id']}/lines", {"sku": sku, "quantity": quantity}, expect=201)
        if member:
            self.call("post", f"sales/{sale['id']}/member", {"query": member})
        if points:
            self.call("post", f"sales/{sale['id']}/tenders", {"kind": "points", "points": points}, expect=201)
        return self.call(
            "post", f"sales/{sale['id']}/complete", {"tenders": [{"kind": "cash", "tendered": "500.00"}]}
        )


def _level(node, store_id: str, product_id: str) -> Decimal:
    value = node.value(
        "select on_hand from stock_stocklevel where store_id=? and product_id=?",
        store_id.replace("-", ""),
        product_id.replace("-", ""),
    )
    return Decimal(str(value))


def test_one_member_one_balance_one_stock_picture_across_two_stores_and_the_web_shop(chain):
    cloud, stores = chain
    s01, s02 = stores["S01"], stores["S02"]
    _sync(s01)
    _sync(s02)
    key = cloud.shell(
        "from cloud.api.services import api_key_create as c\nprint(c(name='Web shop', rate_limit_per_minute=1000)[1])"
    )
    shop = httpx.Client(base_url=f"{cloud.url}/api/v1", headers={"X-API-Key": key}, timeout=30)
    store_ids = {
        code: cloud.value("select id from stores_store where code=?", code) for code in ("S01", "S02")
    }
    # three products sold by the unit with stock at both stores: one per sale of the story
    rows = cloud.query(
        "select p.id, p.sku from catalog_product p where p.unit = 'each' and p.active and "
        "(select min(on_hand) from stock_stocklevel l where l.product_id = p.id) >= 5 order by p.sku limit 4"
    )
    (tea, tea_sku), (jam, jam_sku), (oil, oil_sku), (rice, rice_sku) = rows
    before = {
        (code, product): _level(cloud, store_ids[code], product)
        for code in ("S01", "S02")
        for product in (tea, jam, oil, rice)
    }

    # given a member registers in the web shop, and both stores learn of her
    registered = shop.post(
        "/members",
        json={
            "email": "grace.hopper@example.com",
            "phone": "+49301234567",
            "first_name": "Grace",
            "last_name": "Hopper",
        },
    )
    assert registered.status_code == 201, registered.text
    number = registered.json()["number"]
    _sync(s01)
    _sync(s02)

    # when she earns points at S01, which pushes them
    s01.serve()
    s02.serve()
    till1 = Till(s01, terminal="T01", username="c101")
    first = till1.sale(lines=[(tea_sku, 3)], member=number)
    earned_at_s01 = first["points_earned"]
    assert earned_at_s01 > 0
    _sync(s01)

    # and S01 goes offline (no more syncs) and keeps selling to her there
    offline_sale = till1.sale(lines=[(jam_sku, 2)], member=number)
    earned_offline = offline_sale["points_earned"]

    # and she redeems points at S02 meanwhile: S02 knows what S01 pushed, not what it sold since
    _sync(s02)
    till2 = Till(s02, terminal="T01", username="c201")
    lookup = till2.http.get("members/lookup", params={"q": number})
    assert lookup.status_code == 200, lookup.text
    assert lookup.json()["points_balance"] == earned_at_s01
    redeemed = min(earned_at_s01, 40)
    second = till2.sale(lines=[(oil_sku, 1)], member=number, points=redeemed)
    assert [t["kind"] for t in second["tenders"]][:1] == ["points"]
    earned_at_s02 = second["points_earned"]
    _sync(s02)

    # and she orders online for pickup at S02, to pay there
    placed = shop.post(
        "/orders",
        json={
            "reference": "web-story-1",
            "fulfilment": "pickup",
            "store": "S02",
            "member": number,
            "prepaid": False,
            "customer_name": "Grace Hopper",
            "lines": [{"sku": rice_sku, "quantity": "2"}],
        },
    )
    assert placed.status_code == 201, placed.text
    order_number = placed.json()["number"]
    held = shop.get(f"/products/{rice_sku}/availability", params={"store": "S02"}).json()
    assert _available(held, "S02") == (before[("S02", rice)], 2)

    # and S02 learns the order, picks both items on the handheld and marks it ready
    _sync(s02, waiting=1)  # its "routed" answer goes with the next push
    with handheld_client(s02, username="c201") as handheld:  # every handheld page asks who is there
        listing = handheld.get("/h/orders/")
        assert order_number in listing.text, listing.text
        pick_url = re.search(r'href="(/h/orders/[0-9a-f-]+/)"', listing.text).group(1)
        token = re.search(r'name="csrf-token" content="([^"]+)"', handheld.get(pick_url).text).group(1)
        for _ in range(2):
            scanned = handheld.post(
                pick_url + "scan", data={"code": rice_sku}, headers={"X-CSRFToken": token}
            )
            assert scanned.status_code == 200, scanned.text
        assert handheld.post(pick_url + "ready", headers={"X-CSRFToken": token}).status_code == 302
    _sync(s02)
    assert shop.get(f"/orders/{order_number}").json()["status"] == "ready"

    # and she collects it at S02's till, paying there
    [ready] = till2.call("get", "orders/ready")
    assert ready["number"] == order_number
    opened = till2.call("post", f"orders/{ready['id']}/collect")
    till2.call("post", f"sales/{opened['sale_id']}/member", {"query": number})
    paid = till2.call(
        "post", f"sales/{opened['sale_id']}/complete", {"tenders": [{"kind": "cash", "tendered": "500.00"}]}
    )
    earned_at_pickup = paid["points_earned"]
    assert till2.call("post", f"orders/{ready['id']}/collect")["status"] == "collected"
    _sync(s02)

    # and S01 comes back online; everyone syncs until nothing is waiting anywhere
    _sync(s01)
    _sync(s02)
    _sync(s01)

    # then the cloud, both stores and the API agree on her one balance, entry by entry
    expected = earned_at_s01 + earned_offline - redeemed + earned_at_s02 + earned_at_pickup
    member = shop.get(f"/members/{number}").json()
    assert member["points_balance"] == expected
    for node in (cloud, s01, s02):
        assert node.value("select points_balance from members_member where number=?", number) == expected
        assert (
            node.value(
                "select sum(points) from members_pointsentry e join members_member m on m.id = e.member_id "
                "where m.number=?",
                number,
            )
            == expected
        )
    entries = shop.get(f"/members/{number}/ledger").json()["results"]
    assert sorted((e["origin"], e["points"]) for e in entries) == sorted(
        [
            ("S01", earned_at_s01),
            ("S01", earned_offline),
            ("S02", -redeemed),
            ("S02", earned_at_s02),
            ("S02", earned_at_pickup),
        ]
    )

    # and on the stock: each store's own level, the cloud's, and the other store's look-up agree
    sold = {("S01", tea): 3, ("S01", jam): 2, ("S02", oil): 1, ("S02", rice): 2}
    for (code, product), was in before.items():
        want = was - sold.get((code, product), 0)
        for node in (cloud, s01, s02):
            assert _level(node, store_ids[code], product) == want, (node.code, code, product)
    rice_at_s02 = shop.get(f"/products/{rice_sku}/availability", params={"store": "S02"}).json()
    assert _available(rice_at_s02, "S02") == (before[("S02", rice)] - 2, 0)

    # and on the order: collected at the store, at the cloud and in the web shop, via every status
    shown = shop.get(f"/orders/{order_number}").json()
    assert shown["status"] == "collected"
    assert [h["status"] for h in shown["history"]] == ["placed", "routed", "picking", "ready", "collected"]
    assert (
        s02.value("select status from store_orders_pickuporder where number=?", order_number) == "collected"
    )
    assert cloud.value("select count(*) from cloud_sync_quarantinedevent") == 0
    shop.close()


def _available(body: dict, store_code: str) -> tuple[Decimal, Decimal]:
    [row] = [r for r in body["stores"] if r["store"] == store_code]
    return Decimal(row["on_hand"]), Decimal(row["reserved"])
