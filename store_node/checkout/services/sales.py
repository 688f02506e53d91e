"""An open sale at a till: lines in, discounts, overrides, voids, suspend/resume, cancel.

Every change reprices the whole basket with ``retail.pricing.price_basket`` and stores the result on
the sale and its lines, so an open sale always shows the totals it would complete with. All amounts
come from ``retail.pricing``; nothing here does money arithmetic of its own.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from retail.api_errors import DomainError, Invalid, NotFound
from retail.audit.services import audit_record
from retail.barcodes import BarcodeError, ScanResult, parse_scan
from retail.catalog.models import Product, Unit
from retail.money import to_money, to_quantity
from retail.outbox.services import event_append
from retail.pricing import Basket, Discount, Line, price_basket
from retail.sales.models import Sale, SaleDiscount, SaleLine, SaleStatus
from retail.shifts.selectors import shift_open_id
from retail.sqlrows import row_update, rows_insert
from retail.staff.models import Role
from store_node.checkout.selectors import product_priced, sale_at_store, sale_lines, sale_open_on
from store_node.checkout.services.terminal_login import approval_check

MAX_QUANTITY = 9999
MAX_LINES = 200


def prices_include_tax() -> bool:
    return settings.PRICES_INCLUDE_TAX


# ---------------------------------------------------------------------------------------------
# Loading and repricing
# ---------------------------------------------------------------------------------------------


def sale_for_terminal(*, sale_id, terminal, statuses=(SaleStatus.OPEN,)) -> Sale:
    """The sale if it belongs to this terminal (open sales) or store (suspended ones)."""
    sale = sale_at_store(sale_id=sale_id, store_id=terminal.store_id)
    if sale is None:
        raise NotFound(f"No sale {sale_id} at this store", code="sale_not_found")
    if sale.status not in statuses:
        raise DomainError(f"The sale is {sale.status}, not {' or '.join(statuses)}", code="sale_not_open")
    if sale.status == SaleStatus.OPEN and sale.terminal_id != terminal.id:
        raise DomainError("The sale is open on another terminal", code="sale_on_other_terminal")
    return sale


def _pricing_line(line: SaleLine) -> Line:
    discount = Discount(line.discount_kind, line.discount_value) if line.discount_kind else None
    return Line(
        unit_price=line.unit_price,
        quantity=line.quantity,
        tax_rate=line.tax_rate,
        discount=discount,
        voided=line.voided,
        by_weight=True,  # quantities were checked against the product's unit when the line was added
    )


def sale_basket(*, lines: list[SaleLine], discount: SaleDiscount | None) -> Basket:
    sale_discount = Discount(discount.kind, discount.value) if discount else None
    return price_basket(
        [_pricing_line(line) for line in lines],
        prices_include_tax=prices_include_tax(),
        sale_discount=sale_discount,
    )


_LOAD = object()


def sale_reprice(
    *, sale: Sale, lines: list[SaleLine] | None = None, new_line: SaleLine | None = None, discount=_LOAD
) -> Basket:
    """Reprice the sale from its lines and store every amount that changed (one UPDATE per table).

    ``new_line`` (one of ``lines``, not saved yet) is inserted with its amounts already priced, so
    adding a line to a sale without discounts updates no other line. ``discount``: the sale's
    discount (or ``None``) when the caller has it; read from the database otherwise.
    """
    if lines is None:
        lines = list(sale.lines.all())
    if discount is _LOAD:
        discount = sale.discounts.first()
    basket = sale_basket(lines=lines, discount=discount)
    changed = []
    for line, result in zip(lines, basket.lines, strict=True):
        amounts = (result.line_discount, result.sale_discount, result.total)
        if (line.line_discount, line.sale_discount_share, line.line_total) != amounts:
            line.line_discount, line.sale_discount_share, line.line_total = amounts
            if line is not new_line:
                changed.append(line)
    if new_line is not None:
        rows_insert([new_line])
    if changed:
        SaleLine.objects.bulk_update(changed, ["line_discount", "sale_discount_share", "line_total"])
    if discount is not None and discount.amount != basket.sale_discount:
        discount.amount = basket.sale_discount
        discount.save(update_fields=["amount"])
    sale.subtotal, sale.discount_total = basket.subtotal, basket.discount_total
    sale.tax_total, sale.total = basket.tax_total, basket.total
    row_update(sale, ("subtotal", "discount_total", "tax_total", "total"))
    return basket


# ---------------------------------------------------------------------------------------------
# Opening and adding lines
# ---------------------------------------------------------------------------------------------


def sale_open(*, terminal, cashier) -> Sale:
    """Open a sale on a terminal that has an open shift; a terminal has at most one open sale."""
    if shift_open_id(terminal_id=terminal.id) is None:
        raise DomainError("Open a shift on this terminal before selling", code="no_open_shift")
    with transaction.atomic():
        sale_id = sale_open_on(terminal_id=terminal.id)
        if sale_id is not None:
            raise DomainError(
                "This terminal already has an open sale: finish, suspend or cancel it",
                code="sale_already_open",
                sale_id=str(sale_id),
            )
        return Sale.objects.create(
            store_id=terminal.store_id, terminal=terminal, cashier=cashier, created_at=timezone.now()
        )


def _quantity(value, *, integer: bool, what: str) -> Decimal:
    try:
        q = to_quantity(value if not isinstance(value, float) else str(value), integer=integer)
    except (TypeError, ValueError, InvalidOperation) as e:
        raise Invalid(f"{what}: {e}", code="quantity_invalid") from None
    if q <= 0 or q > MAX_QUANTITY:
        raise Invalid(f"{what} must be more than 0 and at most {MAX_QUANTITY}", code="quantity_invalid")
    return q


def product_for_scan(scan: ScanResult, *, store_id=None) -> Product:
    """The product a scan names (with ``store_price``, ``chain_price``, ``rate``), or a 404."""
    if scan.kind in ("gtin", "gs1", "variable_measure"):
        product = product_priced(store_id=store_id, barcode=scan.key)
        if product is None:
            raise NotFound(f"No product with barcode {scan.key}", code="unknown_barcode", barcode=scan.key)
        return product
    product = product_priced(store_id=store_id, sku=scan.key) or product_priced(
        store_id=store_id, barcode=scan.key
    )
    if product is None:
        raise NotFound(f"No product with barcode or SKU {scan.key}", code="unknown_barcode", barcode=scan.key)
    return product


def sale_add_line(
    *,
    sale_id,
    terminal,
    cashier,
    scan: str | None = None,
    sku: str | None = None,
    product_id=None,
    quantity=1,
    weight=None,
) -> SaleLine:
    """Add a line by scan (any barcode ``parse_scan`` reads), SKU or product id (from name search).

    ``quantity`` multiplies counted items (3 x scan); ``weight`` (kg) is required for products sold
    by weight unless the label carries it. A variable-measure label with a price sells one unit at
    that price. A member card scanned here attaches the member instead (see ``sale_attach_member``).
    Refuses anything it cannot sell with a 4xx and changes nothing.
    """
    given = [x for x in (scan, sku, product_id) if x not in (None, "")]
    if len(given) != 1:
        raise Invalid("Give exactly one of scan, sku or product_id", code="line_source")
    parsed: ScanResult | None = None
    if scan:
        try:
            parsed = parse_scan(scan)
        except BarcodeError as e:
            raise Invalid(str(e), code=f"barcode_{e.code}", barcode=scan) from None
        if parsed.kind == "receipt":
            raise Invalid("That is a receipt: use Returns to take goods back", code="receipt_scanned")
        if parsed.kind == "member":
            raise DomainError("That is a member card: attach it as the member", code="member_scanned")
        product = product_for_scan(parsed, store_id=terminal.store_id)
    elif sku:
        product = product_priced(store_id=terminal.store_id, sku=sku.strip())
        if product is None:
            raise NotFound(f"No product with SKU {sku.strip()}", code="unknown_sku")
    else:
        product = product_priced(store_id=terminal.store_id, product_id=product_id)
        if product is None:
            raise NotFound(f"No product {product_id}", code="unknown_product")
    if not product.active:
        raise DomainError(f"{product.name} is no longer sold", code="product_inactive")

    by_weight = product.unit == Unit.KG
    unit_price = None
    multiplier = _quantity(quantity, integer=True, what="quantity")
    if parsed is not None and parsed.price is not None:
        unit_price, qty = to_money(parsed.price), Decimal(1) * (parsed.count or 1)
    elif by_weight:
        label_weight = parsed.weight if parsed is not None else None
        if label_weight is None and weight in (None, ""):
            raise Invalid(f"Weigh {product.name}: enter its weight in kg", code="weight_required")
        qty = label_weight if label_weight is not None else _quantity(weight, integer=False, what="weight")
        if multiplier != 1:
            raise Invalid("A weighed item cannot be multiplied; scan or weigh each", code="quantity_invalid")
    else:
        if weight not in (None, ""):
            raise Invalid(f"{product.name} is sold by the piece, not by weight", code="weight_not_allowed")
        qty = multiplier * (parsed.count if parsed is not None and parsed.count else 1)
    if unit_price is None:
        unit_price = product.store_price if product.store_price is not None else product.chain_price
        if unit_price is None:
            raise DomainError(f"{product.name} has no price; ask head office", code="no_price")
    rate = product.rate
    if rate is None:
        raise DomainError(f"No tax rate for class {product.tax_class_id}", code="no_tax_rate")

    with transaction.atomic():
        sale = sale_for_terminal(sale_id=sale_id, terminal=terminal)
        lines = sale_lines(sale_id=sale.id)
        if len(lines) >= MAX_LINES:
            raise DomainError(f"A sale has at most {MAX_LINES} lines", code="too_many_lines")
        line = SaleLine(
            sale=sale,
            position=(lines[-1].position + 1) if lines else 1,
            product=product,
            sku=product.sku,
            description=product.name,
            barcode=(parsed.raw.strip() if parsed else "")[:64],
            quantity=qty,
            unit_price=unit_price,
            tax_class=product.tax_class_id,
            tax_rate=rate,
        )
        lines.append(line)
        discount = sale.discounts.first() if sale.has_discount else None
        sale_reprice(sale=sale, lines=lines, new_line=line, discount=discount)
    sale.lines_cache = lines
    return line


# ---------------------------------------------------------------------------------------------
# Discounts, overrides, voids
# ---------------------------------------------------------------------------------------------


def _discount(kind: str, value) -> Discount:
    try:
        return Discount(kind, Decimal(str(value)))
    except (TypeError, ValueError, InvalidOperation) as e:
        raise Invalid(f"discount: {e}", code="discount_invalid") from None


def _line(sale: Sale, line_id) -> tuple[SaleLine, list[SaleLine]]:
    lines = list(SaleLine.objects.filter(sale=sale).order_by("position"))
    for line in lines:
        if str(line.id) == str(line_id):
            if line.voided:
                raise DomainError("That line is voided", code="line_voided")
            return line, lines
    raise NotFound(f"No line {line_id} on this sale", code="line_not_found")


def sale_set_line_discount(*, sale_id, line_id, terminal, kind: str | None, value=None) -> SaleLine:
    """Set (or with ``kind=None`` remove) a line's percent or amount discount."""
    discount = _discount(kind, value) if kind else None
    with transaction.atomic():
        sale = sale_for_terminal(sale_id=sale_id, terminal=terminal)
        line, lines = _line(sale, line_id)
        line.discount_kind = discount.kind if discount else ""
        line.discount_value = discount.value if discount else None
        line.save(update_fields=["discount_kind", "discount_value"])
        sale_reprice(sale=sale, lines=lines)
    return line


def sale_set_discount(*, sale_id, terminal, kind: str | None, value=None, reason: str = "") -> Sale:
    """Set (or remove) the sale's one discount, spread over the lines by ``price_basket``."""
    discount = _discount(kind, value) if kind else None
    with transaction.atomic():
        sale = sale_for_terminal(sale_id=sale_id, terminal=terminal)
        SaleDiscount.objects.filter(sale=sale).delete()
        if discount:
            SaleDiscount.objects.create(sale=sale, kind=discount.kind, value=discount.value, reason=reason)
        sale_reprice(sale=sale)
    return sale


def sale_override_price(*, sale_id, line_id, terminal, cashier, unit_price, approval: dict) -> SaleLine:
    """Change a line's unit price with a supervisor's PIN; audited with actor and approver."""
    try:
        price = to_money(str(unit_price))
    except (TypeError, ValueError, InvalidOperation) as e:
        raise Invalid(f"unit_price: {e}", code="price_invalid") from None
    if price < 0:
        raise Invalid("A price cannot be negative", code="price_invalid")
    approver = approval_check(
        store_id=terminal.store_id, approval=approval, role=Role.SUPERVISOR, action="a price override"
    )
    with transaction.atomic():
        sale = sale_for_terminal(sale_id=sale_id, terminal=terminal)
        line, lines = _line(sale, line_id)
        old = line.unit_price
        line.unit_price, line.price_overridden_by = price, approver
        line.save(update_fields=["unit_price", "price_overridden_by"])
        sale_reprice(sale=sale, lines=lines)
        audit_record(
            action="price_override",
            actor=cashier,
            approver=approver,
            store=terminal.store,
            terminal=terminal,
            subject=line.id,
            details={"sale_id": str(sale.id), "sku": line.sku, "from": f"{old}", "to": f"{price}"},
        )
    return line


def sale_line_price_agreed(
    *, sale_id, line_id, terminal, cashier, unit_price: Decimal, reason: str, reference: str = ""
) -> SaleLine:
    """Set a line's unit price to one agreed before the till, e.g. an online order's price.

    No supervisor's PIN: the price is not the cashier's choice but the record's (``reference``, the
    order's number), so callers pass it from that record, never from input. Audited as
    ``price_agreed`` with the reason, the reference and both prices, in the same transaction.
    """
    price = to_money(unit_price)
    if price < 0:
        raise Invalid("A price cannot be negative", code="price_invalid")
    with transaction.atomic():
        sale = sale_for_terminal(sale_id=sale_id, terminal=terminal)
        line, lines = _line(sale, line_id)
        old = line.unit_price
        if old == price:
            return line
        line.unit_price = price
        line.save(update_fields=["unit_price"])
        sale_reprice(sale=sale, lines=lines)
        audit_record(
            action="price_agreed",
            actor=cashier,
            store=terminal.store,
            terminal=terminal,
            subject=line.id,
            details={
                "sale_id": str(sale.id),
                "sku": line.sku,
                "from": f"{old}",
                "to": f"{price}",
                "reason": reason,
                "reference": reference,
            },
        )
    return line


def sale_void_line(*, sale_id, line_id, terminal, cashier, approval: dict) -> SaleLine:
    """Void a line (it stays on the sale at zero) with a supervisor's PIN; audited."""
    approver = approval_check(
        store_id=terminal.store_id, approval=approval, role=Role.SUPERVISOR, action="voiding a line"
    )
    with transaction.atomic():
        sale = sale_for_terminal(sale_id=sale_id, terminal=terminal)
        line, lines = _line(sale, line_id)
        line.voided = True
        line.save(update_fields=["voided"])
        sale_reprice(sale=sale, lines=lines)
        audit_record(
            action="line_void",
            actor=cashier,
            approver=approver,
            store=terminal.store,
            terminal=terminal,
            subject=line.id,
            details={"sale_id": str(sale.id), "sku": line.sku, "quantity": f"{line.quantity}"},
        )
    return line


# ---------------------------------------------------------------------------------------------
# Suspend, resume, cancel
# ---------------------------------------------------------------------------------------------


def sale_suspend(*, sale_id, terminal) -> Sale:
    """Park the sale; any terminal of the store may resume it."""
    with transaction.atomic():
        sale = sale_for_terminal(sale_id=sale_id, terminal=terminal)
        if sale.tenders.filter(approved=True).exclude(kind="cash").exists():
            raise DomainError("A sale with card or points payments cannot be suspended", code="sale_paid")
        sale.status = SaleStatus.SUSPENDED
        sale.save(update_fields=["status"])
    return sale


def sale_resume(*, sale_id, terminal, cashier) -> Sale:
    """Bring a suspended sale of this store onto this terminal (which must have no open sale)."""
    with transaction.atomic():
        sale = sale_for_terminal(sale_id=sale_id, terminal=terminal, statuses=(SaleStatus.SUSPENDED,))
        if Sale.objects.filter(terminal=terminal, status=SaleStatus.OPEN).exists():
            raise DomainError("Finish or suspend this terminal's open sale first", code="sale_already_open")
        sale.status, sale.terminal, sale.cashier = SaleStatus.OPEN, terminal, cashier
        sale.save(update_fields=["status", "terminal", "cashier"])
        sale_reprice(sale=sale)  # prices are those of the lines when scanned; totals re-derived
    return sale


def sale_cancel(*, sale_id, terminal, cashier, reason: str = "", approval: dict | None = None) -> Sale:
    """Cancel an open (or suspended) sale before payment. A sale with lines needs a supervisor's PIN;
    the cancellation is audited and recorded as a ``sale.cancelled`` event."""
    sale = sale_for_terminal(
        sale_id=sale_id, terminal=terminal, statuses=(SaleStatus.OPEN, SaleStatus.SUSPENDED)
    )
    has_lines = sale.lines.filter(voided=False).exists()
    approver = None
    if has_lines or approval:
        approver = approval_check(
            store_id=terminal.store_id, approval=approval, role=Role.SUPERVISOR, action="cancelling a sale"
        )
    with transaction.atomic():
        sale = sale_for_terminal(
            sale_id=sale_id, terminal=terminal, statuses=(SaleStatus.OPEN, SaleStatus.SUSPENDED)
        )
        if sale.tenders.filter(approved=True).exclude(kind="cash").exists():
            raise DomainError(
                "Card or points were taken: reverse them on the card terminal first", code="sale_paid"
            )
        sale.status = SaleStatus.CANCELLED
        sale.save(update_fields=["status"])
        audit_record(
            action="sale_cancel",
            actor=cashier,
            approver=approver,
            store=terminal.store,
            terminal=terminal,
            subject=sale.id,
            details={"reason": reason, "total": f"{sale.total}"},
        )
        event_append(
            type="sale.cancelled",
            payload={
                "id": sale.id,
                "store_id": sale.store_id,
                "terminal_id": terminal.id,
                "cashier_id": cashier.id,
                "reason": reason,
            },
        )
    return sale
