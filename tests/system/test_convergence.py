"""Convergence: three stores and the cloud make random sales, returns, counts, member edits,
redemptions and catalog changes, with stores offline for random rounds and syncing in random
order; after everyone syncs, every projection at every node equals the cloud's (which holds the
union of all events).

Randomised by a fixed seed per run (each example needs four real processes, so this is not a
hypothesis state machine; the in-process properties of each rule are in tests/retail/replication).
"""

import random

import pytest

from tests.system.nodes import make_node

pytestmark = pytest.mark.processes

NAMES = ["Ada", "Bo", "Cy", "Di", "Ed"]


def _store_ops(rng: random.Random, code: str, n: int) -> str:
    lines = [
        "from decimal import Decimal as D\n"
        "from retail.stock.services import stock_move, stock_count\n"
        "from retail.members.services import member_update, points_post\n"
        "from retail.members.models import Member; from retail.catalog.models import Product\n"
        "from retail.stores.models import Store\n"
        f"s = Store.objects.get(code='{code}'); ps = list(Product.objects.order_by('sku')[:6])\n"
        "ms = [m for m in Member.objects.order_by('number') if m.email.isascii()][:3]\n"
    ]
    for _ in range(n):
        op = rng.choice(["sale", "sale", "return", "count", "edit", "redeem", "earn"])
        p, m = rng.randrange(6), rng.randrange(3)
        if op == "sale":
            lines.append(
                f"stock_move(store_id=s.id, product_id=ps[{p}].id, kind='sale', quantity=D('-{rng.randint(1, 4)}'))"
            )
        elif op == "return":
            lines.append(f"stock_move(store_id=s.id, product_id=ps[{p}].id, kind='return', quantity=D('1'))")
        elif op == "count":
            lines.append(
                f"stock_count(store_id=s.id, product_id=ps[{p}].id, counted=D('{rng.randint(0, 30)}'))"
            )
        elif op == "edit":
            field = rng.choice(["first_name", "last_name"])
            lines.append(
                f"member_update(member=Member.objects.get(pk=ms[{m}].pk), {field}='{rng.choice(NAMES)}{code}')"
            )
        elif op == "redeem":
            lines.append(f"points_post(member_id=ms[{m}].id, kind='redeem', points=-{rng.randint(1, 50)})")
        else:
            lines.append(f"points_post(member_id=ms[{m}].id, kind='earn', points={rng.randint(1, 20)})")
    return "\n".join(lines) + "\n"


def _cloud_ops(rng: random.Random, n: int) -> str:
    lines = [
        "from decimal import Decimal as D; from retail.catalog.models import Product\n"
        "from retail.catalog.services import price_set, product_upsert\n"
        "from retail.members.models import Member; from retail.members.services import member_update\n"
        "ps = list(Product.objects.order_by('sku')[:6]); ms = [m for m in Member.objects.order_by('number') if m.email.isascii()][:3]\n"
    ]
    for _ in range(n):
        op = rng.choice(["price", "price", "rename", "edit"])
        p, m = rng.randrange(6), rng.randrange(3)
        if op == "price":
            lines.append(f"price_set(product=ps[{p}], amount=D('{rng.randint(100, 999) / 100:.2f}'))")
        elif op == "rename":
            lines.append(
                f"x = ps[{p}]; product_upsert(sku=x.sku, name='{rng.choice(NAMES)} product', unit=x.unit, "
                "tax_class=x.tax_class_id, barcodes=list(x.barcodes.values_list('code', flat=True)))"
            )
        else:
            lines.append(
                f"member_update(member=Member.objects.get(pk=ms[{m}].pk), first_name='{rng.choice(NAMES)}HQ')"
            )
    return "\n".join(lines) + "\n"


PROJECTIONS = {
    "stock": "select store_id, product_id, on_hand from stock_stocklevel where on_hand != 0 order by 1, 2",
    "points": "select id, points_balance from members_member order by 1",
    "members": "select id, first_name, last_name, phone, email from members_member order by 1",
    "prices": "select product_id, amount, substr(effective_from, 1, 23) from catalog_price where store_id is null order by 1, 3",
    "products": "select id, sku, name, active from catalog_product order by 1",
}


@pytest.mark.parametrize("seed", [20261123])
def test_every_projection_converges_after_everyone_syncs(chain, workdir, seed):
    cloud, stores = chain
    rng = random.Random(seed)
    s03_code = cloud.shell(
        "from cloud.sync.services import enrollment_code_create as c; from retail.stores.models import Store as S\n"
        "print(c(store=S.objects.get(code='S03'))[1])"
    )
    stores["S03"] = make_node("store", workdir, "S03")
    stores["S03"].manage("enroll", "--cloud", cloud.url, "--code", s03_code)
    for store in stores.values():
        store.manage("sync", "--once", "--quiet")
    for _round in range(3):
        for code, store in stores.items():
            store.shell(_store_ops(rng, code, rng.randint(3, 10)))
        cloud.shell(_cloud_ops(rng, rng.randint(1, 4)))
        online = [code for code in stores if rng.random() < 0.6]  # the others are offline this round
        rng.shuffle(online)
        for code in online:
            stores[code].manage("sync", "--once", "--quiet", check=False)
    order = list(stores)
    rng.shuffle(order)
    for code in order + order:  # twice around: everyone learns what the others pushed
        result = stores[code].manage("sync", "--once", "--quiet", check=False)
        assert result.returncode == 0, result.stdout + result.stderr
    for name, sql in PROJECTIONS.items():
        expected = cloud.query(sql)
        for code, store in stores.items():
            assert store.query(sql) == expected, f"{name} differs at {code}"
