"""Convergence as a hypothesis state machine over real processes.

A cloud (daphne) and three store nodes, each store behind its own fault proxy, each node driven by
an agent process inside its Django (``tests/system/agent.py``). Hypothesis chooses the steps: sales
with and without members (earning points, redeeming points as a tender), returns against receipts,
stock counts, member edits at any node, members created at a till, price changes and renames at
head office, and syncs in any order, with stores going offline and coming back and links that drop,
delay, duplicate and reorder requests. At the end the faults stop and every store syncs; then every
projection at every node (stock levels of every store, points balances, member fields, product
names, chain-wide prices) equals the one computed here from the union of all nodes' events, and
the cloud holds every store's sales exactly once.

Each example starts from copies of one chain built once per session (seeded, enrolled, synced), so
examples are independent and hypothesis can shrink a failure. ``OMNITILL_CONVERGENCE_EXAMPLES``
(default 4) sets how many run.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from datetime import datetime
from decimal import Decimal
from itertools import count

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tests.system.fault_proxy import FaultProxy
from tests.system.nodes import AgentRefused, Node, make_node

pytestmark = pytest.mark.processes

STORES = ("S01", "S02", "S03")
NAMES = ("Ada", "Bo", "Cy", "Di", "Ed")
MEMBER_FIELDS = ("first_name", "last_name", "email")
EXAMPLES = int(os.environ.get("OMNITILL_CONVERGENCE_EXAMPLES", "4"))


# ------------------------------------------------------------------------------ the chain, once


def _checkpoint(path) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


@pytest.fixture(scope="module")
def template(workdir):
    """A seeded cloud and three enrolled stores that loaded its snapshot; what each then holds."""
    cloud = make_node("cloud", workdir, "conv-cloud")
    stores = {code: make_node("store", workdir, f"conv-{code}") for code in STORES}
    try:
        cloud.manage("seed_demo", "--products", "24", "--members", "4")
        codes = cloud.shell(
            "from cloud.sync.services import enrollment_code_create as c; from retail.stores.models import Store as S\n"
            f"print(' '.join(c(store=S.objects.get(code=k))[1] for k in {STORES!r}))"
        ).split()
        cloud.serve()
        for (code, store), enrollment in zip(stores.items(), codes, strict=True):
            store.env["STORE_CODE"] = code
            store.manage("enroll", "--cloud", cloud.url, "--code", enrollment)
            store.manage("sync", "--once", "--quiet")
        for store in stores.values():  # everyone learns what the others' first syncs appended
            store.manage("sync", "--once", "--quiet")
        agents = {"cloud": cloud.agent(), **{code: store.agent() for code, store in stores.items()}}
        held = {code: agent("projections") for code, agent in agents.items()}
        base = held["cloud"]
        for code in STORES:  # the stores start where the cloud is
            assert comparable(held[code]) == comparable(base), code
        base_sales = {code: set(h["sales"]) for code, h in held.items()}
        base_seq = {code: _last_seq(agent) for code, agent in agents.items()}
        clocks = dict(
            (row[0], row[1])
            for row in cloud.query("select id, field_clocks from members_member")  # the fields' stamps
        )
        products = [
            r[0]
            for r in cloud.query(
                "select id from catalog_product where unit = 'each' and active order by sku limit 8"
            )
        ]
    finally:
        for node in [cloud, *stores.values()]:
            node.stop()
    for node in [cloud, *stores.values()]:
        _checkpoint(node.db)
    return {
        "cloud": cloud,
        "stores": stores,
        "base": base,
        "base_seq": base_seq,
        "base_sales": base_sales,
        "clocks": clocks,
        "products": [_dashed(p) for p in products],
        "members": sorted(base["points"]),
    }


def _last_seq(agent) -> int:
    events = agent("events")
    return events[-1]["seq"] if events else 0


def _dashed(hex_id: str) -> str:
    h = hex_id.replace("-", "")
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_example = count(1)


def _copy(node: Node, workdir, name: str) -> Node:
    copy = Node(node.role, workdir, name)
    copy.env = {**node.env, **({"DATABASE_URL": f"sqlite:///{copy.db}"} if node.role == "cloud" else {})}
    if node.role == "store":
        copy.env["STORE_DB_PATH"] = str(copy.db)
    shutil.copy(node.db, copy.db)
    return copy


# ------------------------------------------------------------------- the union of all events


def _moment(text: str) -> str:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat()


def expected_projections(base: dict, clocks: dict, events: list[dict]) -> dict:
    """Every projection as the merge rules compute it from the base plus the union of events."""
    stock = {k: Decimal(v) for k, v in base["stock"].items()}
    points = dict(base["points"])
    members = {k: dict(v) for k, v in base["members"].items()}
    stamps = {_dashed(k): {f: tuple(s) for f, s in json.loads(v).items()} for k, v in clocks.items()}
    products = dict(base["products"])
    prices = {(p, _moment(e)): a for p, a, e in base["prices"]}
    for event in events:
        p, kind = event["payload"], event["type"]
        if kind == "stock.moved":
            key = f"{p['store_id']}/{p['product_id']}"
            stock[key] = stock.get(key, Decimal(0)) + Decimal(p["quantity"])
        elif kind == "stock.counted" and p["movement_id"]:
            key = f"{p['store_id']}/{p['product_id']}"
            stock[key] = stock.get(key, Decimal(0)) + Decimal(p["difference"])
        elif kind == "points.posted":
            points[p["member_id"]] = points.get(p["member_id"], 0) + p["points"]
        elif kind in ("member.created", "member.updated"):
            member = members.setdefault(p["id"], {})
            points.setdefault(p["id"], 0)
            field_stamps = stamps.setdefault(p["id"], {})
            stamp = (event["hlc"], event["origin"])
            for field, value in p["fields"].items():
                if field not in field_stamps or stamp > tuple(field_stamps[field]):
                    member[field], field_stamps[field] = value, stamp
    for event in sorted((e for e in events if e["origin"] == "cloud"), key=lambda e: e["seq"]):
        p = event["payload"]
        if event["type"] == "product.updated":
            products[p["id"]] = p["name"]
        elif event["type"] == "price.set" and p["store_id"] is None:
            prices[(p["product_id"], _moment(p["effective_from"]))] = p["amount"]
    return {
        "stock": {k: v for k, v in stock.items() if v != 0},
        "points": points,
        "members": members,
        "products": products,
        "prices": sorted((p, Decimal(a)) for (p, _), a in prices.items()),
    }


def comparable(held: dict) -> dict:
    return {
        "stock": {k: Decimal(v) for k, v in held["stock"].items() if Decimal(v) != 0},
        "points": held["points"],
        "members": held["members"],
        "products": held["products"],
        "prices": sorted((p, Decimal(a)) for p, a, _ in held["prices"]),
    }


# ----------------------------------------------------------------------------- the state machine


def chain_machine(template, workdir):
    class Chain(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            n = next(_example)
            self.cloud = _copy(template["cloud"], workdir, f"conv-{n}-cloud")
            self.stores = {c: _copy(s, workdir, f"conv-{n}-{c}") for c, s in template["stores"].items()}
            self.cloud.serve()
            self.proxies = {c: FaultProxy(self.cloud.port, seed=n, fault_rate=0.0).start() for c in STORES}
            self.agents = {"cloud": self.cloud.agent()}
            for code, store in self.stores.items():
                agent = self.agents[code] = store.agent()
                agent("cloud_url", url=self.proxies[code].url)
                agent("store_setup")
            self.members = list(template["members"])
            self.receipts: dict[str, list[str]] = {c: [] for c in STORES}
            self.products = template["products"]

        # -------------------------------------------------------------- what people do

        @rule(
            store=st.sampled_from(STORES),
            items=st.lists(st.tuples(st.integers(0, 7), st.integers(1, 3)), min_size=1, max_size=3),
            member=st.one_of(st.none(), st.integers(0, 20)),
            points=st.sampled_from([0, 0, 30, 400]),
        )
        def sale(self, store, items, member, points):
            member_id = self.members[member % len(self.members)] if member is not None else None
            lines = [[self.products[i], q] for i, q in items]
            # a member this store has not heard of yet is not attached (the till finds no such card)
            done = self.agents[store]("sale", lines=lines, member_id=member_id, points=points)
            self.receipts[store].append(done["receipt"])

        @precondition(lambda self: any(self.receipts.values()))
        @rule(store=st.sampled_from(STORES), which=st.integers(0, 50))
        def sale_return(self, store, which):
            if self.receipts[store]:
                receipt = self.receipts[store][which % len(self.receipts[store])]
                self.agents[store]("sale_return", receipt=receipt)

        @rule(store=st.sampled_from(STORES), product=st.integers(0, 7), counted=st.integers(0, 30))
        def stock_count(self, store, product, counted):
            self.agents[store]("stock_count", product_id=self.products[product], counted=counted)

        @rule(
            node=st.sampled_from(("cloud", *STORES)),
            member=st.integers(0, 20),
            field=st.sampled_from(MEMBER_FIELDS),
            name=st.sampled_from(NAMES),
        )
        def member_edit(self, node, member, field, name):
            value = f"{name.lower()}.{node.lower()}@example.com" if field == "email" else f"{name}{node}"
            member_id = self.members[member % len(self.members)]
            try:
                self.agents[node]("member_edit", member_id=member_id, field=field, value=value)
            except AgentRefused as refused:
                assert refused.code == "member_not_found", refused

        @rule(store=st.sampled_from(STORES), name=st.sampled_from(NAMES), phone=st.integers(0, 3))
        def member_create(self, store, name, phone):
            created = self.agents[store]("member_create", first_name=name, phone=f"+4930555000{phone}")
            self.members.append(created["id"])

        @rule(product=st.integers(0, 7), cents=st.integers(50, 2000))
        def price_set(self, product, cents):
            self.agents["cloud"]("price_set", product_id=self.products[product], amount=f"{cents / 100:.2f}")

        @rule(product=st.integers(0, 7), name=st.sampled_from(NAMES))
        def product_rename(self, product, name):
            self.agents["cloud"]("product_rename", product_id=self.products[product], name=f"{name} product")

        # -------------------------------------------------------------- the network

        @rule(store=st.sampled_from(STORES))
        def sync(self, store):
            result = self.agents[store]("sync")
            if self.proxies[store].offline:
                assert not result["up_to_date"] and result["error"], result

        @rule(store=st.sampled_from(STORES), offline=st.booleans())
        def link(self, store, offline):
            self.proxies[store].offline = offline

        @rule(store=st.sampled_from(STORES), rate=st.sampled_from([0.0, 0.0, 0.3]))
        def faults(self, store, rate):
            self.proxies[store].fault_rate = rate

        @invariant()
        def nothing_quarantined(self):
            held = self.cloud.query(
                "select origin, seq, type, reason, detail from cloud_sync_quarantinedevent"
            )
            assert held == [], held

        # -------------------------------------------------------------- the end

        def teardown(self):
            try:
                self._everyone_syncs_and_agrees()
            finally:
                for proxy in self.proxies.values():
                    proxy.stop()
                for node in [self.cloud, *self.stores.values()]:
                    node.stop()

        def _everyone_syncs_and_agrees(self):
            for proxy in self.proxies.values():
                proxy.offline, proxy.fault_rate = False, 0.0
            for _round in range(2):
                results = {code: self.agents[code]("sync") for code in STORES}
            assert all(r["up_to_date"] for r in results.values()), results
            self.nothing_quarantined()
            events = []
            for code, agent in self.agents.items():
                events += agent("events", after=template["base_seq"][code])
            want = expected_projections(template["base"], template["clocks"], events)
            sold = {e["payload"]["id"] for e in events if e["type"] == "sale.completed"}
            for code, agent in self.agents.items():
                held = agent("projections")
                assert comparable(held) == want, f"{code} differs from the union of events"
                own = {
                    e["payload"]["id"]
                    for e in events
                    if e["type"] == "sale.completed" and e["origin"] == code
                }
                new = sold if code == "cloud" else own
                assert set(held["sales"]) == template["base_sales"][code] | new, code
            # exactly once: the cloud holds one row per sale, however often the links repeated it
            assert self.cloud.value("select count(*) from sales_sale") == len(
                template["base_sales"]["cloud"] | sold
            )

    return Chain


def test_every_projection_equals_the_union_of_events_after_any_steps(template, workdir):
    machine = chain_machine(template, workdir)
    machine.TestCase.settings = settings(
        max_examples=EXAMPLES,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    machine.TestCase().runTest()
