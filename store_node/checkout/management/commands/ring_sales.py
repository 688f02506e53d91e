"""Ring random sales on one terminal in a loop, as fast as the services go (crash tests, soak runs).

``manage.py ring_sales --terminal T01 [--count N]``: each sale scans 1-5 random products of the
load-test catalog, sometimes attaches a member and pays with cash, card, points or a split, then
completes. An open sale left by an earlier run on the terminal is completed first. Prints
``ready`` once set up and then each receipt number as it commits.
"""

from __future__ import annotations

import random
import sys
from decimal import Decimal

from django.core.management.base import BaseCommand

from retail.catalog.models import Barcode
from retail.members.models import Member
from retail.sales.models import Sale, SaleStatus
from retail.staff.models import User
from retail.stores.models import Terminal
from store_node.checkout.services.members import sale_attach_member
from store_node.checkout.services.sales import sale_add_line, sale_open
from store_node.checkout.services.tenders import sale_complete


class Command(BaseCommand):
    help = "Ring random sales on one terminal in a loop."

    def add_arguments(self, parser):
        parser.add_argument("--terminal", default="T01")
        parser.add_argument("--count", type=int, default=0, help="stop after this many sales (0: never)")
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args, terminal: str, count: int, seed: int | None, **options):
        rng = random.Random(seed)
        till = Terminal.objects.select_related("store").get(code=terminal)
        cashier = User.objects.get(username="cashier")
        codes = list(Barcode.objects.values_list("code", flat=True)[:500])
        members = list(Member.objects.values_list("card_barcode", flat=True)[:50])
        out = sys.stdout
        out.write("ready\n")
        out.flush()
        rung = 0
        while not count or rung < count:
            sale = Sale.objects.filter(terminal=till, status=SaleStatus.OPEN).first()
            if sale is None:
                sale = sale_open(terminal=till, cashier=cashier)
                if members and rng.random() < 0.3:
                    sale_attach_member(sale_id=sale.id, terminal=till, query=rng.choice(members))
            for _ in range(rng.randint(1, 5) if not sale.lines.exists() else 0):
                sale_add_line(
                    sale_id=sale.id,
                    terminal=till,
                    cashier=cashier,
                    scan=rng.choice(codes),
                    quantity=rng.randint(1, 3),
                )
            sale.refresh_from_db()
            tenders = self._tenders(rng, sale)
            done = sale_complete(sale_id=sale.id, terminal=till, cashier=cashier, tenders=tenders)
            out.write(f"{done.receipt_number}\n")
            out.flush()
            rung += 1

    def _tenders(self, rng: random.Random, sale: Sale) -> list[dict]:
        if sale.tenders.exists():  # tendered before a crash: top up with cash
            return [{"kind": "cash", "tendered": sale.total + Decimal("1.00")}]
        how = rng.choice(["cash", "card", "split", "points"])
        total = sale.total
        if how == "card":
            return [{"kind": "card", "amount": total, "reference": f"A{rng.randint(0, 999999):06d}"}]
        if how == "split" and total > Decimal("1.00"):
            part = (total / 2).quantize(Decimal("0.01"))
            return [
                {"kind": "card", "amount": part, "reference": "SPLIT"},
                {"kind": "cash", "tendered": total},
            ]
        if how == "points" and sale.member_id:
            balance = Member.objects.get(pk=sale.member_id).points_balance
            points = min(balance, int(total * 100) // 2)
            if points > 0:
                return [{"kind": "points", "points": points}, {"kind": "cash", "tendered": total}]
        return [{"kind": "cash", "tendered": total + Decimal(rng.randint(1, 20))}]
