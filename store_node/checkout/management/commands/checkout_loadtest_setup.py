"""Fill an empty store database with a synthetic catalog, terminals, staff and open shifts.

For benchmarks and crash tests: ``manage.py checkout_loadtest_setup --products 100000 --terminals 4``.
Bulk inserts (like the demo seed); the FTS index fills itself through its triggers.
"""

from __future__ import annotations

import random
import time
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from retail.catalog.models import Barcode, Price, Product, TaxClass, TaxRate, Unit
from retail.demo.seed import BRANDS, EPOCH, FOOD, NONFOOD, SIZES, ean13
from retail.members.models import Member
from retail.shifts.services import shift_open
from retail.staff.models import Role, User
from retail.stores.models import Store, Terminal

# The demo's vocabulary, so benchmark catalogs read like the demo chain's.
KINDS = FOOD + NONFOOD
PIN = "1111"


def barcode_of(i: int) -> str:
    """The barcode of synthetic product ``i``: a valid EAN-13 (benchmarks scan these)."""
    return ean13(f"29{i:010d}")


class Command(BaseCommand):
    help = "Load a synthetic catalog, terminals, a cashier and a supervisor, and open a shift per terminal."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=10000)
        parser.add_argument("--terminals", type=int, default=2)
        parser.add_argument("--members", type=int, default=100)

    def handle(self, *args, products: int, terminals: int, members: int, **options):
        started = time.perf_counter()
        rng = random.Random(7)
        with transaction.atomic():
            store = Store.objects.create(code=settings.STORE_CODE, name="Load test store")
            for code, rate in (("STD", "0.1900"), ("RED", "0.0700")):
                TaxClass.objects.create(code=code, name=code)
                TaxRate.objects.create(tax_class_id=code, rate=Decimal(rate), effective_from=EPOCH)
            cashier = User(username="cashier", role=Role.CASHIER, store=store)
            cashier.set_pin(PIN)
            supervisor = User(username="supervisor", role=Role.SUPERVISOR, store=store)
            supervisor.set_pin("2222")
            User.objects.bulk_create([cashier, supervisor])
            batch = 5000
            for start in range(0, products, batch):
                rows, codes, prices = [], [], []
                for i in range(start, min(products, start + batch)):
                    p = Product(
                        sku=f"{100000 + i}",
                        name=f"{rng.choice(BRANDS)} {rng.choice(KINDS)} {rng.choice(SIZES)} {i}",
                        unit=Unit.EACH,
                        tax_class_id="STD" if i % 3 == 0 else "RED",
                    )
                    rows.append(p)
                    codes.append(Barcode(code=barcode_of(i), product=p))
                    prices.append(
                        Price(product=p, amount=Decimal(rng.randint(29, 4999)) / 100, effective_from=EPOCH)
                    )
                Product.objects.bulk_create(rows)
                Barcode.objects.bulk_create(codes)
                Price.objects.bulk_create(prices)
            Member.objects.bulk_create(
                [
                    Member(number=f"M{100001 + i}", card_barcode=f"MBR{100001 + i}", origin="cloud")
                    for i in range(members)
                ]
            )
            for n in range(1, terminals + 1):
                terminal = Terminal.objects.create(store=store, code=f"T{n:02d}")
                shift_open(terminal=terminal, cashier=cashier, opening_float=Decimal("100.00"))
        self.stdout.write(
            f"loaded {products} products, {terminals} terminals with open shifts, {members} members "
            f"in {time.perf_counter() - started:.1f} s"
        )
