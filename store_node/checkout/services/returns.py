"""Returns: goods back against a receipt (any store's, once its sale has synced here) or, with a
manager's PIN, without one.

Refunds come from ``retail.pricing.refund_line`` (cumulative rounding: never more than was paid for
a line, exactly what was paid once everything is back). With ``refund_to="original"`` the refund goes
back to the original card and points tenders first, up to what each paid less earlier refunds, and
the rest in cash; ``refund_to="cash"`` pays it all in cash. The cash part is cash-rounded.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from retail.api_errors import DomainError, Invalid, NotFound
from retail.audit.services import audit_record
from retail.barcodes import BarcodeError, parse_scan
from retail.catalog.models import Product, Unit
from retail.dbmath import DecimalSum
from retail.members.models import Member, PointsKind
from retail.members.services import points_post
from retail.money import money_sum, round_cash
from retail.outbox.services import event_append
from retail.pricing import Line, SoldLine, price_basket, refund_line
from retail.sales.models import Sale, SaleKind, SaleLine, SaleStatus, SaleTaxLine, Tender, TenderKind
from retail.sales.services import receipt_number_next, sale_completed_payload
from retail.staff.models import Role
from retail.stock.models import MovementKind
from retail.stock.services import Move, stock_move_many
from store_node.checkout.selectors import returned_quantities, sale_by_receipt
from store_node.checkout.services.members import points_for, points_value
from store_node.checkout.services.receipts import receipt_payload
from store_node.checkout.services.sales import _quantity, prices_include_tax, sale_basket
from store_node.checkout.services.shifts import current_shift
from store_node.checkout.services.tenders import cash_increment
from store_node.checkout.services.terminal_login import approval_check
from store_node.devices.services import drawer_kick_request, print_job_enqueue


def original_sale_for(*, receipt: str) -> Sale:
    try:
        scan = parse_scan(receipt)
    except BarcodeError as e:
        raise Invalid(str(e), code=f"barcode_{e.code}") from None
    if scan.kind != "receipt":
        raise Invalid(f"{receipt!r} is not a receipt barcode", code="not_a_receipt")
    sale = sale_by_receipt(receipt_number=scan.key)
    if sale is None or sale.kind != SaleKind.SALE:
        raise NotFound(
            f"No sale with receipt {scan.key} here; a sale from another store is found once it has synced",
            code="unknown_receipt",
        )
    return sale


def returnable_lines(*, sale: Sale) -> list[dict]:
    """The original sale's lines with what was paid, the tax share and what is left to return."""
    lines = list(SaleLine.objects.filter(sale=sale).order_by("position"))
    basket = sale_basket(lines=lines, discount=sale.discounts.first())
    returned = returned_quantities(sale=sale)
    units = dict(Product.objects.filter(pk__in={line.product_id for line in lines}).values_list("id", "unit"))
    out = []
    for line, result in zip(lines, basket.lines, strict=True):
        if line.voided:
            continue
        if result.total != line.line_total:
            raise DomainError(
                f"line {line.position} no longer reprices to what was paid", code="reprice_mismatch"
            )
        out.append(
            {
                "line": line,
                "paid": result.total,
                "tax": result.tax,
                "returned": returned.get(line.id, Decimal(0)),
                "left": line.quantity - returned.get(line.id, Decimal(0)),
                "by_weight": units.get(line.product_id) == Unit.KG,
            }
        )
    return out


def _refund_by_receipt(original: Sale, wanted: list[dict]):
    sold = {str(r["line"].id): r for r in returnable_lines(sale=original)}
    merged: dict[str, tuple[Decimal, bool]] = {}
    for item in wanted:
        key = str(item.get("line_id"))
        if key not in sold:
            raise Invalid(
                f"No returnable line {key} on receipt {original.receipt_number}", code="line_not_found"
            )
        row = sold[key]
        qty = _quantity(item.get("quantity", 1), integer=not row["by_weight"], what="quantity")
        prev = merged.get(key, (Decimal(0), True))[0]
        merged[key] = (prev + qty, bool(item.get("restock", True)))
    out = []
    for key, (qty, restock) in merged.items():
        row = sold[key]
        line = row["line"]
        try:
            refund = refund_line(
                SoldLine(
                    total=row["paid"],
                    tax=row["tax"],
                    quantity=line.quantity,
                    returned_quantity=row["returned"],
                    by_weight=row["by_weight"],
                ),
                qty,
            )
        except ValueError as e:
            raise Invalid(f"{line.description}: {e}", code="return_too_many") from None
        out.append(
            (line, line.product_id, line.unit_price, refund.quantity, refund.amount, refund.tax, restock)
        )
    return out


def _refund_without_receipt(wanted: list[dict], store_id):
    from retail.catalog.selectors import price_for, tax_rate_for
    from store_node.checkout.services.sales import product_for_scan

    items = []
    for item in wanted:
        if item.get("scan"):
            try:
                product = product_for_scan(parse_scan(item["scan"]), store_id=store_id)
            except BarcodeError as e:
                raise Invalid(str(e), code=f"barcode_{e.code}") from None
        else:
            product = Product.objects.filter(sku=str(item.get("sku", "")).strip()).first()
            if product is None:
                raise NotFound(f"No product with SKU {item.get('sku')}", code="unknown_sku")
        qty = _quantity(item.get("quantity", 1), integer=product.unit != Unit.KG, what="quantity")
        price = price_for(product_id=product.id, store_id=store_id)
        rate = tax_rate_for(tax_class=product.tax_class_id)
        if price is None or rate is None:
            raise DomainError(f"{product.name} has no price or tax rate", code="no_price")
        items.append((product, qty, price, rate, bool(item.get("restock", True))))
    basket = price_basket(
        [Line(unit_price=p, quantity=q, tax_rate=r, by_weight=True) for _, q, p, r, _ in items],
        prices_include_tax=prices_include_tax(),
    )
    return [
        (None, product, price, qty, res.total, res.tax, restock, rate)
        for (product, qty, price, rate, restock), res in zip(items, basket.lines, strict=True)
    ]


def _refunded_so_far(original: Sale) -> dict[str, Decimal]:
    rows = (
        Tender.objects.filter(sale__original_sale=original, sale__status=SaleStatus.COMPLETED)
        .values("kind")
        .annotate(s=DecimalSum("amount", places=2))
    )
    return {r["kind"]: -r["s"] for r in rows}


def sale_return(
    *,
    terminal,
    cashier,
    lines: list[dict],
    receipt: str | None = None,
    refund_to: str = "original",
    approval: dict | None = None,
    reason: str = "",
) -> Sale:
    """Take goods back and refund them, in one transaction (like ``sale_complete``): the return sale
    with negative quantities and amounts, stock back (``return``; plus a ``write_off`` when not
    restocked), refund tenders, points given back and taken back, event, print job, drawer kick for
    cash, audit entry. A return without a receipt needs a store manager's PIN and refunds cash."""
    if not lines:
        raise Invalid("Pick at least one line to return", code="no_lines")
    if refund_to not in ("original", "cash"):
        raise Invalid("refund_to is 'original' or 'cash'", code="refund_to")
    approver = None
    if receipt is None:
        approver = approval_check(
            store_id=terminal.store_id,
            approval=approval,
            role=Role.STORE_MANAGER,
            action="a return without a receipt",
        )
        refund_to = "cash"
    shift = current_shift(terminal=terminal)
    with transaction.atomic():
        original = original_sale_for(receipt=receipt) if receipt is not None else None
        now = timezone.now()
        if original is not None:
            items = [
                (line, None, price, qty, amount, tax, restock, line.tax_rate)
                for line, _pid, price, qty, amount, tax, restock in _refund_by_receipt(original, lines)
            ]
        else:
            items = _refund_without_receipt(lines, terminal.store_id)
        total = money_sum(i[4] for i in items)
        tax_total = money_sum(i[5] for i in items)
        if total < 0:  # zero is fine: a free item comes back to the shelf without money
            raise DomainError("Nothing to refund on these lines", code="nothing_to_refund")

        refund_tenders: list[tuple[str, Decimal, str, int]] = []
        remaining = total
        if original is not None and refund_to == "original":
            before = _refunded_so_far(original)
            for t in Tender.objects.filter(sale=original, approved=True).exclude(kind=TenderKind.CASH):
                cap = t.amount - before.get(t.kind, Decimal(0))
                before[t.kind] = before.get(t.kind, Decimal(0)) + min(cap, remaining)
                give = min(cap, remaining)
                if give > 0:
                    pts = int(give / points_value(1)) if t.kind == TenderKind.POINTS else 0
                    refund_tenders.append((t.kind, give, t.reference, pts))
                    remaining -= give
        cash_out = round_cash(remaining, cash_increment()) if remaining > 0 else Decimal("0.00")
        if cash_out > 0:
            refund_tenders.append((TenderKind.CASH, cash_out, "", 0))
        member = original.member if original is not None else None
        points_back = sum(p for k, _, _, p in refund_tenders if k == TenderKind.POINTS)
        take_back = 0
        if member is not None and original.points_earned:
            taken = -(
                Sale.objects.filter(original_sale=original, status=SaleStatus.COMPLETED).aggregate(
                    s=Sum("points_earned")
                )["s"]
                or 0
            )
            non_points = total - money_sum(a for k, a, _, _ in refund_tenders if k == TenderKind.POINTS)
            take_back = min(points_for(non_points), original.points_earned - taken)

        ret = Sale.objects.create(
            kind=SaleKind.RETURN,
            status=SaleStatus.COMPLETED,
            store_id=terminal.store_id,
            terminal=terminal,
            shift=shift,
            cashier=cashier,
            member=member,
            original_sale=original,
            receipt_number=receipt_number_next(terminal=terminal),
            subtotal=-total,
            discount_total=Decimal("0.00"),
            tax_total=-tax_total,
            total=-total,
            cash_rounding=remaining - cash_out,
            points_earned=-take_back,
            created_at=now,
            completed_at=now,
        )
        line_rows = SaleLine.objects.bulk_create(
            [
                SaleLine(
                    sale=ret,
                    position=n,
                    product_id=(orig.product_id if orig else product.id),
                    sku=(orig.sku if orig else product.sku),
                    description=(orig.description if orig else product.name),
                    quantity=-qty,
                    unit_price=price,
                    line_total=-amount,
                    tax_class=(orig.tax_class if orig else product.tax_class_id),
                    tax_rate=rate,
                    original_line=orig,
                    restock=restock,
                )
                for n, (orig, product, price, qty, amount, tax, restock, rate) in enumerate(items, start=1)
            ]
        )
        by_rate: dict[Decimal, list] = {}
        for row, item in zip(line_rows, items, strict=True):
            by_rate.setdefault(row.tax_rate, [row.tax_class, Decimal("0.00"), Decimal("0.00")])
            by_rate[row.tax_rate][1] += item[4]
            by_rate[row.tax_rate][2] += item[5]
        tax_lines = SaleTaxLine.objects.bulk_create(
            [
                SaleTaxLine(sale=ret, tax_class=c, rate=r, taxable=-(amt - tax), tax=-tax)
                for r, (c, amt, tax) in sorted(by_rate.items())
            ]
        )
        tender_rows = Tender.objects.bulk_create(
            [
                Tender(sale=ret, kind=k, amount=-a, reference=ref, points=p, created_at=now)
                for k, a, ref, p in refund_tenders
            ]
        )
        event_append(
            type="sale.completed", payload=sale_completed_payload(ret, line_rows, [], tax_lines, tender_rows)
        )
        moves = []
        for row in line_rows:
            moves.append(Move(row.product_id, MovementKind.RETURN, -row.quantity, ret.receipt_number))
            if not row.restock:
                moves.append(
                    Move(
                        row.product_id,
                        MovementKind.WRITE_OFF,
                        row.quantity,
                        ret.receipt_number,
                        "returned, written off",
                    )
                )
        stock_move_many(store_id=ret.store_id, moves=moves)
        if points_back:
            points_post(
                member_id=member.id,
                kind=PointsKind.ADJUST,
                points=points_back,
                sale_id=ret.id,
                reason=f"refund {ret.receipt_number}",
            )
        if take_back:
            points_post(
                member_id=member.id,
                kind=PointsKind.ADJUST,
                points=-take_back,
                sale_id=ret.id,
                reason=f"points of returned goods {ret.receipt_number}",
            )
        if member is not None:
            member = Member.objects.get(pk=member.pk)
        units = dict(
            Product.objects.filter(pk__in={r.product_id for r in line_rows}).values_list("id", "unit")
        )
        print_job_enqueue(
            terminal=terminal,
            kind="receipt",
            payload=receipt_payload(
                sale=ret,
                store=terminal.store,
                terminal=terminal,
                cashier=cashier,
                lines=line_rows,
                units=units,
                tax_lines=tax_lines,
                tenders=tender_rows,
                discounts=[],
                member=member,
            ),
        )
        if cash_out > 0:
            drawer_kick_request(terminal=terminal, reason="sale")
        audit_record(
            action="refund",
            actor=cashier,
            approver=approver,
            store=terminal.store,
            terminal=terminal,
            subject=ret.id,
            details={
                "receipt": ret.receipt_number,
                "original": original.receipt_number if original else None,
                "total": f"{total}",
                "reason": reason,
            },
        )
    return ret
