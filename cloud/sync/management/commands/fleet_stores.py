"""Make the stores of a simulated fleet at head office and print what the load generator needs.

    POS_ROLE=cloud manage.py fleet_stores --count 500 [--prefix F] [--region-size 10] > fleet.json

Each store gets a lane (T01), a cashier and a one-time enrollment code; existing fleet stores are
reused (a fresh code each run). Stores are grouped in regions of ``--region-size`` (F-R001 holds
F0001..F0010), as a chain of that size would be: a store's handhelds show its region's stock
(docs/sync-protocol.md §5.2). The JSON also carries the catalog the simulated tills sell from
(products with their current chain-wide price and tax rate) and some members for points, so the
store-side ``manage.py fleet`` needs no database of its own.
"""

from __future__ import annotations

import json
import uuid

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cloud.sync.models import StoreSyncState
from cloud.sync.services import enrollment_code_create
from retail.catalog.models import Price, Product, TaxRate
from retail.members.models import Member
from retail.outbox.services import event_append
from retail.staff.models import Role, User
from retail.stores.models import Store, Terminal

STORE_FIELDS = ["code", "name", "address", "city", "postcode", "phone", "time_zone", "active"]


def fleet_stores_ensure(*, count: int, prefix: str, region_size: int = 10) -> list[Store]:
    """The fleet's stores ``<prefix>0001``…, each with lane T01 and a cashier; created with their events."""
    codes = [f"{prefix}{n:04d}" for n in range(1, count + 1)]
    regions = {code: f"{prefix}-R{n // region_size + 1:03d}" for n, code in enumerate(codes)}
    existing = {s.code: s for s in Store.objects.filter(code__in=codes)}
    with transaction.atomic():
        for code in codes:
            if code in existing:
                if existing[code].region != regions[code]:
                    Store.objects.filter(pk=existing[code].pk).update(region=regions[code])
                continue
            store = Store.objects.create(
                code=code, name=f"Fleet store {code}", city="Simulated", region=regions[code]
            )
            terminal = Terminal.objects.create(
                store=store, code="T01", name="Lane 1", printer_address="virtual://"
            )
            User.objects.create(
                username=f"fleet-{code.lower()}",
                first_name="Fleet",
                last_name=code,
                role=Role.CASHIER,
                store=store,
            )
            event_append(
                type="store.updated", payload={"id": store.id, **{f: getattr(store, f) for f in STORE_FIELDS}}
            )
            event_append(
                type="terminal.updated",
                payload={
                    "id": terminal.id,
                    "store_id": store.id,
                    "code": "T01",
                    "name": "Lane 1",
                    "active": True,
                },
            )
            existing[code] = store
    return [existing[code] for code in codes]


def _catalog(limit: int) -> list[dict]:
    rates = {r.tax_class_id: r.rate for r in TaxRate.objects.order_by("effective_from")}
    prices = {
        p.product_id: p.amount
        for p in Price.objects.filter(store__isnull=True)
        .order_by("effective_from")
        .only("product_id", "amount")
    }
    out = []
    for product in Product.objects.filter(active=True, unit="each").order_by("sku")[:limit]:
        if product.id not in prices:
            continue
        out.append(
            {
                "id": str(product.id),
                "sku": product.sku,
                "name": product.name,
                "price": str(prices[product.id]),
                "tax_class": product.tax_class_id,
                "tax_rate": str(rates.get(product.tax_class_id, "0")),
            }
        )
    return out


class Command(BaseCommand):
    help = "Create (or reuse) N fleet stores with enrollment codes; print them as JSON for `manage.py fleet`."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--prefix", default="F", help="store codes are <prefix>0001… (default F)")
        parser.add_argument("--products", type=int, default=200, help="how many products the tills sell")
        parser.add_argument("--members", type=int, default=50)
        parser.add_argument("--region-size", type=int, default=10, help="stores per region (default 10)")

    def handle(self, *args, count, prefix, products, members, region_size, **options):
        if not 1 <= count <= 9999 or not prefix.isalnum() or len(prefix) > 4 or region_size < 1:
            raise CommandError(
                "--count must be 1..9999, --prefix up to 4 letters or digits, --region-size >= 1"
            )
        stores = fleet_stores_ensure(count=count, prefix=prefix, region_size=region_size)
        catalog = _catalog(products)
        if not catalog:
            raise CommandError("the catalog has no priced products: run seed_demo first")
        cashiers = dict(
            User.objects.filter(store__in=stores, role=Role.CASHIER).values_list("store_id", "id")
        )
        # A store that synced before continues its outbox after what the cloud acknowledged.
        acks = dict(StoreSyncState.objects.filter(store__in=stores).values_list("store_id", "ack_seq"))
        terminals = dict(Terminal.objects.filter(store__in=stores, code="T01").values_list("store_id", "id"))
        out = {
            "stores": [
                {
                    "code": store.code,
                    "id": str(store.id),
                    "terminal_id": str(terminals[store.id]),
                    "cashier_id": str(cashiers[store.id]),
                    "enrollment_code": enrollment_code_create(store=store)[1],
                    "ack_seq": acks.get(store.id, 0),
                }
                for store in stores
            ],
            "products": catalog,
            "members": [
                str(m) for m in Member.objects.order_by("number").values_list("id", flat=True)[:members]
            ],
            "run": uuid.uuid4().hex[:8],
        }
        self.stdout.write(json.dumps(out))
