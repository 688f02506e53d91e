"""A test agent inside a node's Django: one long-lived process per node that runs named operations.

Started by ``tests.system.nodes.Node.agent()`` as ``python -m tests.system.agent`` with the node's
environment (role, database, store code). It reads one JSON request per line on stdin,
``{"op": name, "args": {...}}``, calls the operation below (the node's real services: checkout,
stock, members, catalog, sync) and writes one JSON answer per line on stdout,
``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "...", "code": "..."}``. A process per
node keeps each step of a stateful test at milliseconds instead of a ``manage.py`` start-up.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from decimal import Decimal


def _setup() -> None:
    sys.path.insert(0, os.getcwd())
    from retail.roles import resolve_settings_module

    os.environ["DJANGO_SETTINGS_MODULE"] = resolve_settings_module()
    import django

    django.setup()


# ------------------------------------------------------------------------------------ operations


def op_store_setup() -> dict:
    """Open a shift on lane T01 (idempotent); say what the chain looks like from here."""
    from django.conf import settings

    from retail.shifts.models import Shift
    from retail.staff.models import User
    from retail.stores.models import Terminal
    from store_node.checkout.services.shifts import till_shift_open

    terminal = Terminal.objects.get(store__code=settings.STORE_CODE, code="T01")
    cashier = User.objects.get(username=f"c{settings.STORE_CODE[-1]}01")
    if not Shift.objects.filter(terminal=terminal, closed_at__isnull=True).exists():
        till_shift_open(terminal=terminal, cashier=cashier, opening_float=Decimal("100.00"))
    return {"terminal": str(terminal.id), "cashier": cashier.username}


def _till():
    from django.conf import settings

    from retail.staff.models import User
    from retail.stores.models import Terminal

    terminal = Terminal.objects.select_related("store").get(store__code=settings.STORE_CODE, code="T01")
    return terminal, User.objects.get(username=f"c{settings.STORE_CODE[-1]}01")


def op_sale(*, lines: list[list], member_id: str | None = None, points: int = 0) -> dict:
    """Ring ``lines`` of [product_id, quantity], attach the member when this store knows her, pay up
    to ``points`` points (as many as this store lets the member redeem), the rest in cash."""
    from retail.members.models import Member
    from store_node.checkout.selectors import points_redeemable
    from store_node.checkout.services import members as member_services
    from store_node.checkout.services import sales as sale_services
    from store_node.checkout.services import tenders as tender_services

    terminal, cashier = _till()
    member = Member.objects.filter(pk=member_id).first() if member_id else None
    sale = sale_services.sale_open(terminal=terminal, cashier=cashier)
    for product_id, quantity in lines:
        sale_services.sale_add_line(
            sale_id=sale.id, terminal=terminal, cashier=cashier, product_id=product_id, quantity=quantity
        )
    tenders, redeemed = [], 0
    if member is not None:
        member_services.sale_attach_member(sale_id=sale.id, terminal=terminal, query=member.number)
        sale.refresh_from_db()
        redeemed = min(points, points_redeemable(member=member, sale=sale), int(sale.total * 100))
        if redeemed > 0:
            tenders.append({"kind": "points", "points": redeemed})
    tenders.append({"kind": "cash", "tendered": Decimal("9999.00")})
    done = tender_services.sale_complete(sale_id=sale.id, terminal=terminal, cashier=cashier, tenders=tenders)
    return {
        "id": str(done.id),
        "receipt": done.receipt_number,
        "member": str(member.id) if member else None,
        "points_redeemed": redeemed,
    }


def op_sale_return(*, receipt: str) -> dict:
    """Return one unit (or what is left) of the first line of ``receipt`` still returnable."""
    from store_node.checkout.services.returns import original_sale_for, returnable_lines, sale_return

    terminal, cashier = _till()
    rows = [r for r in returnable_lines(sale=original_sale_for(receipt=receipt)) if r["left"] > 0]
    if not rows:
        return {"returned": None}
    line = rows[0]["line"]
    done = sale_return(
        terminal=terminal,
        cashier=cashier,
        receipt=receipt,
        lines=[{"line_id": line.id, "quantity": min(Decimal(1), rows[0]["left"]), "restock": True}],
    )
    return {"returned": str(done.id)}


def op_stock_count(*, product_id: str, counted: int) -> dict:
    from django.conf import settings

    from retail.stock.services import stock_count
    from retail.stores.models import Store

    store = Store.objects.get(code=settings.STORE_CODE)
    stock_count(store_id=store.id, product_id=product_id, counted=Decimal(counted))
    return {}


def _member(member_id: str):
    from retail.api_errors import NotFound
    from retail.members.models import Member

    member = Member.objects.filter(pk=member_id).first()
    if member is None:
        raise NotFound(f"member {member_id} is not known here", code="member_not_found")
    return member


def op_member_edit(*, member_id: str, field: str, value: str) -> dict:
    from retail.members.services import member_update

    member_update(member=_member(member_id), **{field: value})
    return {}


def op_member_create(*, first_name: str, phone: str) -> dict:
    from store_node.checkout.services.members import member_create_at_till

    member = member_create_at_till(first_name=first_name, phone=phone)
    return {"id": str(member.id), "number": member.number}


def op_price_set(*, product_id: str, amount: str) -> dict:
    from retail.catalog.models import Product
    from retail.catalog.services import price_set

    price_set(product=Product.objects.get(pk=product_id), amount=Decimal(amount))
    return {}


def op_product_rename(*, product_id: str, name: str) -> dict:
    from retail.catalog.models import Product
    from retail.catalog.services import product_upsert

    p = Product.objects.get(pk=product_id)
    product_upsert(
        sku=p.sku,
        name=name,
        unit=p.unit,
        tax_class=p.tax_class_id,
        barcodes=list(p.barcodes.values_list("code", flat=True)),
    )
    return {}


def op_sync() -> dict:
    from store_node.sync.services import sync_once

    summary = sync_once(timeout=10)
    return {"up_to_date": summary.up_to_date, "error": summary.error, "waiting": summary.waiting}


def op_sync_status() -> dict:
    from store_node.sync.selectors import sync_status

    status = sync_status()
    return {"clock_offset_s": status.clock_offset_s, "clock_warning": status.clock_warning}


def op_member(*, member_id: str) -> dict:
    member = _member(member_id)
    return {
        "first_name": member.first_name,
        "last_name": member.last_name,
        "field_clocks": member.field_clocks,
    }


def op_cloud_url(*, url: str) -> dict:
    from store_node.sync.models import SyncCredential

    SyncCredential.objects.update(cloud_url=url)
    return {}


def op_events(*, after: int = 0) -> list:
    """This node's own events after ``after``, in seq order (the cloud's are origin ``cloud``)."""
    from retail.outbox.models import Event
    from retail.outbox.services import node_origin

    return [
        {"origin": e.origin, "seq": e.seq, "hlc": e.hlc, "type": e.type, "payload": e.payload}
        for e in Event.objects.filter(origin=node_origin(), seq__gt=after).order_by("seq")
    ]


def op_projections() -> dict:
    """Every projection sync must make agree: stock levels, points balances, member fields,
    products and chain-wide prices, and the ids of the sales this node holds."""
    from retail.catalog.models import Price, Product
    from retail.members.models import Member
    from retail.sales.models import Sale
    from retail.stock.models import StockLevel

    return {
        "stock": {
            f"{s}/{p}": str(q)
            for s, p, q in StockLevel.objects.values_list("store_id", "product_id", "on_hand")
        },
        "points": {str(i): b for i, b in Member.objects.values_list("id", "points_balance")},
        "members": {
            str(m["id"]): {f: m[f] for f in Member.PROFILE_FIELDS}
            for m in Member.objects.values("id", *Member.PROFILE_FIELDS)
        },
        "products": {str(i): n for i, n in Product.objects.values_list("id", "name")},
        "prices": sorted(
            [str(p), str(a), e.isoformat()]
            for p, a, e in Price.objects.filter(store__isnull=True).values_list(
                "product_id", "amount", "effective_from"
            )
        ),
        "sales": sorted(str(i) for i in Sale.objects.filter(status="completed").values_list("id", flat=True)),
    }


OPS = {name[3:]: fn for name, fn in globals().items() if name.startswith("op_")}


def main() -> None:
    _setup()
    from django.db import close_old_connections

    from retail.api_errors import DomainError

    print(json.dumps({"ok": True, "result": "ready"}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        try:
            answer = {"ok": True, "result": OPS[request["op"]](**request.get("args", {}))}
        except DomainError as exc:
            answer = {"ok": False, "error": str(exc), "code": exc.code}
        except Exception as exc:  # reported to the test, which fails with it
            answer = {
                "ok": False,
                "error": f"{type(exc).__name__}: {exc}",
                "code": "crash",
                "tb": traceback.format_exc(),
            }
        close_old_connections()
        print(json.dumps(answer, default=str), flush=True)


if __name__ == "__main__":
    main()
