"""Paying and completing a sale.

``sale_add_tender`` records cash handed over, a card terminal's answer (approved or declined, with
its reference) or points; ``sale_complete`` settles them with ``retail.pricing.settle`` and commits
the whole sale in one transaction.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from retail.api_errors import DomainError, Invalid
from retail.dbmath import DecimalSum
from retail.members.models import Member, PointsKind
from retail.members.services import points_post
from retail.money import money_sum, to_money
from retail.pricing import Settlement, TenderError, settle
from retail.pricing import Tender as PricingTender
from retail.sales.models import Sale, SaleLine, SaleStatus, SaleTaxLine, Tender, TenderKind
from retail.sales.services import receipt_number_next, sale_completed_payload
from retail.shifts.selectors import shift_open_id
from retail.sqlrows import row_update, rows_insert
from retail.stock.models import MovementKind
from retail.stock.services import Move, stock_move_many
from store_node.checkout.selectors import points_redeemable, sale_lines
from store_node.checkout.services.members import points_for, points_value
from store_node.checkout.services.receipts import receipt_payload
from store_node.checkout.services.sales import sale_basket, sale_for_terminal
from store_node.devices.services import drawer_kick_request, print_job_enqueue
from store_node.sync.worker import sync_wake


def cash_increment() -> Decimal:
    return Decimal(settings.CASH_ROUNDING_INCREMENT)


def _money(value, what: str) -> Decimal:
    try:
        amount = to_money(str(value))
    except (TypeError, ValueError, InvalidOperation) as e:
        raise Invalid(f"{what}: {e}", code="amount_invalid") from None
    if amount <= 0:
        raise Invalid(f"{what} must be more than 0", code="amount_invalid")
    return amount


def _non_cash_paid(sale: Sale) -> Decimal:
    paid = (
        Tender.objects.filter(sale=sale, approved=True)
        .exclude(kind=TenderKind.CASH)
        .aggregate(s=DecimalSum("amount", places=2))
    )["s"]
    return paid or Decimal("0.00")


def sale_add_tender(
    *,
    sale_id,
    terminal,
    kind: str,
    amount=None,
    tendered=None,
    reference: str = "",
    approved: bool = True,
    points: int | None = None,
) -> Tender:
    """Record a tender on an open sale.

    - cash: ``tendered`` is the cash handed over; what it pays and the change are settled at
      completion (several cash tenders add up into one);
    - card: ``amount`` and the external terminal's ``reference``; ``approved=False`` records a
      declined card, which pays nothing and leaves the sale open;
    - points: ``points`` (or ``amount``, at 100 points per 1.00) of the attached member, never more
      than ``points_redeemable``.
    Card and points together may never exceed the sale total.
    """
    if kind not in TenderKind.values:
        raise Invalid(f"kind must be one of {', '.join(TenderKind.values)}", code="tender_kind")
    with transaction.atomic():
        sale = sale_for_terminal(sale_id=sale_id, terminal=terminal)
        return _tender_add(
            sale=sale,
            kind=kind,
            amount=amount,
            tendered=tendered,
            reference=reference,
            approved=approved,
            points=points,
        )


def _tender_add(
    *,
    sale: Sale,
    kind: str,
    amount=None,
    tendered=None,
    reference: str = "",
    approved: bool = True,
    points: int | None = None,
) -> Tender:
    """``sale_add_tender`` on a sale already loaded (and locked) by the caller's transaction."""
    if kind not in TenderKind.values:
        raise Invalid(f"kind must be one of {', '.join(TenderKind.values)}", code="tender_kind")
    now = timezone.now()
    if kind == TenderKind.CASH:
        cash = _money(tendered if tendered is not None else amount, "tendered")
        # A sale read by sale_for_terminal knows whether it has tenders: most have none yet.
        existing = None
        if getattr(sale, "has_tenders", True):
            existing = Tender.objects.filter(sale=sale, kind=TenderKind.CASH).first()
        if existing:
            existing.tendered += cash
            existing.save(update_fields=["tendered"])
            return existing
        return _tender_new(sale, kind=kind, amount=Decimal("0.00"), tendered=cash, created_at=now)
    remaining = sale.total - _non_cash_paid(sale)
    if kind == TenderKind.CARD:
        value = _money(amount, "amount")
        if not approved:
            return _tender_new(
                sale, kind=kind, amount=value, reference=reference[:64], approved=False, created_at=now
            )
        if not reference:
            raise Invalid("Give the card terminal's approval reference", code="reference_required")
        if value > remaining:
            raise Invalid(f"Card amount {value} exceeds the {remaining} still due", code="tender_exceeds_due")
        return _tender_new(sale, kind=kind, amount=value, reference=reference[:64], created_at=now)
    if sale.member_id is None:
        raise Invalid("Attach a member before paying with points", code="member_required")
    if points is None:
        value = _money(amount, "amount")
        points = int(value / points_value(1))
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise Invalid("points must be a whole number above 0", code="points_invalid")
    value = points_value(points)
    available = points_redeemable(member=sale.member, sale=sale)
    if points > available:
        raise DomainError(
            f"Only {available} points can be redeemed at this store now",
            code="points_insufficient",
            redeemable=available,
        )
    if value > remaining:
        raise Invalid(
            f"{points} points ({value}) exceed the {remaining} still due", code="tender_exceeds_due"
        )
    return _tender_new(sale, kind=kind, amount=value, points=points, created_at=now)


def _tender_new(sale: Sale, **fields) -> Tender:
    tender = rows_insert([Tender(sale=sale, **fields)])[0]
    sale.has_tenders = True  # a second cash tender of the same request adds to this one
    return tender


def sale_remove_tender(*, sale_id, tender_id, terminal) -> None:
    """Take back a cash or points tender (or a declined card) before completion."""
    with transaction.atomic():
        sale = sale_for_terminal(sale_id=sale_id, terminal=terminal)
        tender = Tender.objects.filter(sale=sale, pk=tender_id).first()
        if tender is None:
            raise Invalid(f"No tender {tender_id} on this sale", code="tender_not_found")
        if tender.kind == TenderKind.CARD and tender.approved:
            raise DomainError("Reverse an approved card payment on the card terminal", code="card_approved")
        tender.delete()


def _settle(sale: Sale, tenders: list[Tender]) -> Settlement:
    paying = []
    for t in tenders:
        if not t.approved:
            continue
        paying.append(
            PricingTender("cash", t.tendered)
            if t.kind == TenderKind.CASH
            else PricingTender(t.kind, t.amount)
        )
    try:
        return settle(sale.total, paying, cash_increment=cash_increment())
    except TenderError as e:
        raise DomainError(str(e), code="tenders_short") from None


def sale_complete(*, sale_id, terminal, cashier, tenders: list[dict] | None = None) -> Sale:
    """Complete a sale: one transaction writes the final sale, its lines, tax lines and tenders, a
    gapless receipt number, one stock movement per line (never refused for lack of stock), points
    redeemed and earned, the ``sale.completed`` event, a receipt print job and, when cash was taken,
    a drawer kick. Any failure leaves the sale open and nothing written.

    ``tenders`` (optional) are added first, each as ``sale_add_tender`` would, in the same transaction.
    """
    with transaction.atomic():
        sale = sale_for_terminal(sale_id=sale_id, terminal=terminal)
        had_tenders = sale.has_tenders
        added = [_tender_add(sale=sale, **tender) for tender in tenders or ()]
        shift_id = shift_open_id(terminal_id=terminal.id)
        if shift_id is None:
            raise DomainError("Open a shift on this terminal before taking payment", code="no_open_shift")
        # The product's unit rides along for the receipt (weights print as kg).
        lines = sale_lines(sale_id=sale.id, with_units=True)
        if not any(not line.voided for line in lines):
            raise DomainError("The sale has no items", code="sale_empty")
        discounts = list(sale.discounts.all()) if sale.has_discount else []
        basket = sale_basket(lines=lines, discount=discounts[0] if discounts else None)
        sale.subtotal, sale.discount_total = basket.subtotal, basket.discount_total
        sale.tax_total, sale.total = basket.tax_total, basket.total
        repriced = []  # normally none: every change already stored the repriced amounts
        for line, result in zip(lines, basket.lines, strict=True):
            amounts = (result.line_discount, result.sale_discount, result.total)
            if (line.line_discount, line.sale_discount_share, line.line_total) != amounts:
                line.line_discount, line.sale_discount_share, line.line_total = amounts
                repriced.append(line)
        if had_tenders:
            tender_rows = list(Tender.objects.filter(sale=sale).order_by("created_at"))
        else:  # all of them came with this request, in this order (two cash tenders are one row)
            tender_rows = list({t.id: t for t in added}.values())
        settlement = _settle(sale, tender_rows)
        points_tendered = sum(t.points for t in tender_rows if t.approved and t.kind == TenderKind.POINTS)
        member = Member.objects.filter(pk=sale.member_id).first() if sale.member_id else None
        if points_tendered and points_tendered > points_redeemable(member=member):
            raise DomainError("The member no longer has the points tendered", code="points_insufficient")
        for t in tender_rows:
            if t.kind == TenderKind.CASH:
                t.amount, t.change = settlement.cash_due, settlement.change
        now = timezone.now()
        points_paid = money_sum(t.amount for t in tender_rows if t.approved and t.kind == TenderKind.POINTS)
        sale.points_earned = points_for(sale.total + settlement.rounding - points_paid) if member else 0
        sale.receipt_number = receipt_number_next(terminal=terminal)
        sale.status, sale.completed_at, sale.shift_id = SaleStatus.COMPLETED, now, shift_id
        sale.cash_rounding, sale.cashier = settlement.rounding, cashier
        updated = row_update(
            sale,
            (
                "status",
                "completed_at",
                "shift_id",
                "receipt_number",
                "subtotal",
                "discount_total",
                "tax_total",
                "total",
                "cash_rounding",
                "points_earned",
                "cashier_id",
            ),
            where={"status": SaleStatus.OPEN},
        )
        if not updated:
            raise DomainError("The sale was completed or changed meanwhile", code="sale_not_open")
        if repriced:
            SaleLine.objects.bulk_update(repriced, ["line_discount", "sale_discount_share", "line_total"])
        for d in discounts:
            d.amount = basket.sale_discount
            d.save(update_fields=["amount"])
        for t in tender_rows:
            if t.kind == TenderKind.CASH:
                row_update(t, ("amount", "change"))
        classes: dict[Decimal, list[str]] = {}
        for line in lines:
            if not line.voided and line.tax_class not in classes.setdefault(line.tax_rate, []):
                classes[line.tax_rate].append(line.tax_class)
        tax_lines = SaleTaxLine.objects.bulk_create(
            [
                SaleTaxLine(
                    sale=sale,
                    tax_class="+".join(classes[t.rate])[:16],
                    rate=t.rate,
                    taxable=t.taxable,
                    tax=t.tax,
                )
                for t in basket.taxes
            ]
        )
        stock_move_many(  # the sale.completed event first, then one stock.moved per line
            events_before=[
                ("sale.completed", sale_completed_payload(sale, lines, discounts, tax_lines, tender_rows))
            ],
            store_id=sale.store_id,
            moves=[
                Move(
                    product_id=line.product_id,
                    kind=MovementKind.SALE,
                    quantity=-line.quantity,
                    reference=sale.receipt_number,
                )
                for line in lines
                if not line.voided
            ],
        )
        if points_tendered:
            points_post(
                member_id=member.id,
                kind=PointsKind.REDEEM,
                points=-points_tendered,
                sale_id=sale.id,
                reason=f"paid {sale.receipt_number}",
            )
        if sale.points_earned:
            points_post(
                member_id=member.id,
                kind=PointsKind.EARN,
                points=sale.points_earned,
                sale_id=sale.id,
                reason=f"earned {sale.receipt_number}",
            )
        if member:
            member.refresh_from_db(fields=["points_balance"])
        units = {line.product_id: line.product_unit for line in lines}
        print_job_enqueue(
            terminal=terminal,
            kind="receipt",
            payload=receipt_payload(
                sale=sale,
                store=terminal.store,
                terminal=terminal,
                cashier=cashier,
                lines=lines,
                units=units,
                tax_lines=tax_lines,
                tenders=tender_rows,
                discounts=discounts,
                member=member,
                points_redeemed=points_tendered,
            ),
        )
        if any(t.kind == TenderKind.CASH and t.approved for t in tender_rows):
            drawer_kick_request(terminal=terminal, reason="sale")
        transaction.on_commit(sync_wake)  # the sale goes to head office now, not at the next poll
    sale.lines_cache, sale.tenders_cache, sale.member = lines, tender_rows, member
    return sale
