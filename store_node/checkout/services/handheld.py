"""Staff on a handheld: signing in with the till's PIN check, counting stock and posting the count.

Signing in is the terminal's check (``terminal_login._user_for_store`` and ``pin_verify``): the same
wrong-PIN count and lockout, so a PIN is guessed no faster on a handheld than at a till. Who may do
what on the handheld: cashiers and above may use it (look up, count, pick orders); posting a count
moves the book stock, so it needs a supervisor or above, either signed in or approving in place
with their own staff number and PIN (``approval_check``, the same lockout again).

A count in progress is a ``CountSheet``: plain data the caller keeps (the handheld keeps it in the
counter's session) and that changes nothing in the database until it is posted. Each line holds the
counted quantity and the book quantity when that line was counted, so that a sale rung between
counting a shelf and posting the count still counts (``stock_count``'s ``book``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone

from retail.api_errors import Invalid, NotFound, PermissionRefused
from retail.audit.services import audit_record
from retail.barcodes import BarcodeError, parse_scan
from retail.catalog.models import Product, Unit
from retail.staff.models import Role, User
from retail.stock.models import StockLevel
from retail.stock.quantities import stock_quantity_parse
from retail.stock.services import stock_count, stock_on_hand
from store_node.checkout.selectors import product_search
from store_node.checkout.services.sales import product_for_scan
from store_node.checkout.services.terminal_login import _user_for_store, approval_check, pin_verify

COUNT_POST_ROLE = Role.SUPERVISOR


def handheld_login(*, store_id, username: str, pin: str) -> User:
    """The staff member signing in on a handheld of this store, or a refusal saying why.

    Refuses a missing field (``login_incomplete``), an unknown staff number (``unknown_staff``),
    someone of another store (``wrong_store``), a wrong PIN (``pin_invalid``, counted), a locked
    account (``pin_locked``) and a role below cashier (``role_refused``, after the PIN: the role of
    an account is not told to someone who does not know its PIN).
    """
    username = (username or "").strip()
    if not username or not pin:
        raise Invalid("Enter your staff number and your PIN.", code="login_incomplete")
    user = _user_for_store(username=username, store_id=store_id)
    pin_verify(user=user, pin=pin)
    if not user.has_rank(Role.CASHIER):
        raise PermissionRefused(
            f"{user.username} may not use the handheld: it is for cashiers and above", code="role_refused"
        )
    return user


def count_post_needs_approval(*, user: User) -> bool:
    """Whether ``user`` needs a supervisor's staff number and PIN to post a count."""
    return not user.has_rank(COUNT_POST_ROLE)


@dataclass(frozen=True)
class CountLine:
    counted: Decimal
    book: Decimal | None  # the book when this line was counted; None: the book when it is posted


class CountSheet:
    """A count in progress: ``lines`` is ``{product_id: CountLine}``, the line changed last last.

    ``CountSheet(data)`` reads what ``as_data()`` gave (JSON-safe: strings only); a sheet kept before
    lines had a book (``{product_id: "7"}``) reads as lines counted against the book when posted.
    """

    def __init__(self, data: dict | None = None):
        self.lines: dict[uuid.UUID, CountLine] = {}
        for key, value in (data or {}).items():
            counted, book = (
                (value.get("counted"), value.get("book")) if isinstance(value, dict) else (value, None)
            )
            try:
                self.lines[uuid.UUID(str(key))] = CountLine(
                    counted=Decimal(counted), book=None if book is None else Decimal(book)
                )
            except (ValueError, TypeError, InvalidOperation):
                continue  # not a line this code wrote: dropped rather than crash the count page

    def as_data(self) -> dict:
        return {
            str(product_id): {
                "counted": str(line.counted),
                "book": None if line.book is None else str(line.book),
            }
            for product_id, line in self.lines.items()
        }

    def put(self, product_id, line: CountLine) -> None:
        self.lines.pop(product_id, None)
        self.lines[product_id] = line

    def __len__(self) -> int:
        return len(self.lines)


@dataclass(frozen=True)
class CountChange:
    """What one scan or typed count did to the sheet."""

    product: Product
    line: CountLine | None  # None: the product is off the sheet (its count was cleared)
    added: Decimal | None = None  # what a scan added; None when the count was set as typed


def _count_product(*, store, code: str):
    """The product a scanned or typed code names, and the parsed scan; typed text naming exactly one
    product by name counts it too (as the look-up does)."""
    code = (code or "").strip()
    if not code:
        raise Invalid("Scan a product or type its barcode or SKU.", code="code_missing")
    try:
        parsed = parse_scan(code)
    except BarcodeError as exc:
        raise Invalid(str(exc), code="barcode_invalid") from exc
    if parsed.kind in ("receipt", "member"):
        raise Invalid(f"{code!r} is a {parsed.kind} barcode, not a product.", code="not_a_product")
    try:
        return product_for_scan(parsed, store_id=store.id), parsed
    except NotFound:
        if parsed.kind != "sku_or_text":
            raise
    matches = product_search(query=code, limit=2)
    if len(matches) > 1:
        raise Invalid(
            f"{code!r} names several products: scan the barcode, or count them from a list.",
            code="code_ambiguous",
        )
    if not matches:
        raise NotFound(f"No product for {code!r}.", code="unknown_barcode", barcode=code)
    return Product.objects.get(pk=matches[0]["id"]), parsed


def _set_line(*, store, sheet: CountSheet, product: Product, counted) -> CountChange:
    """The line set to ``counted`` as typed, against the book now; blank takes it off the sheet."""
    if str(counted).strip() == "":
        sheet.lines.pop(product.id, None)
        return CountChange(product=product, line=None)
    quantity = stock_quantity_parse(name=product.name, unit=product.unit, raw=counted, allow_zero=True)
    line = CountLine(counted=quantity, book=stock_on_hand(store_id=store.id, product_id=product.id))
    sheet.put(product.id, line)
    return CountChange(product=product, line=line)


def count_scan(*, store, sheet: CountSheet, code: str, counted: str = "") -> CountChange:
    """Count the product a scan (or typed barcode, SKU or name) names, on ``sheet``.

    With ``counted`` blank each scan adds one to the product's line, and a weighed item's label its
    weight; a product sold by weight scanned without a label is refused (``weight_required``: type
    its kilograms). With ``counted`` typed, the line is set to it (0: none on the shelf). The line's
    book is the book when its count began: at its first scan, or when a count was typed. A refusal
    leaves the sheet as it was.
    """
    product, parsed = _count_product(store=store, code=code)
    if str(counted or "").strip():
        return _set_line(store=store, sheet=sheet, product=product, counted=counted)
    if product.unit == Unit.KG:
        if parsed.weight is None:
            raise Invalid(
                f"{product.name} is sold by weight: scan its label, or type the kilograms counted.",
                code="weight_required",
            )
        added = parsed.weight
    else:
        added = Decimal("1")
    before = sheet.lines.get(product.id)
    if before is None:
        line = CountLine(counted=added, book=stock_on_hand(store_id=store.id, product_id=product.id))
    else:
        line = CountLine(counted=before.counted + added, book=before.book)
    sheet.put(product.id, line)
    return CountChange(product=product, line=line, added=added)


def count_set(*, store, sheet: CountSheet, product_id, counted: str) -> CountChange:
    """Set the count of one product as typed (a line of the sheet, or a row of a product list);
    blank takes it off the sheet: it is not counted. Refuses a product that does not exist."""
    try:
        product = Product.objects.filter(pk=product_id).first()
    except (ValueError, TypeError, DjangoValidationError):
        product = None
    if product is None:
        raise NotFound("No such product: choose it from the list again.", code="unknown_product")
    return _set_line(store=store, sheet=sheet, product=product, counted=counted)


@dataclass(frozen=True)
class CountRow:
    product: Product
    counted: Decimal
    book: Decimal  # the book the count is against: when the line was counted
    book_now: Decimal

    @property
    def difference(self) -> Decimal:
        """What posting the line moves."""
        return self.counted - self.book

    @property
    def sold_since(self) -> bool:
        return self.book_now != self.book


def count_sheet_rows(*, store, sheet: CountSheet) -> list[CountRow]:
    """The sheet's lines with their products and books, the line changed last first (two queries)."""
    ids = list(sheet.lines)
    products = Product.objects.in_bulk(ids)
    book_now = dict(
        StockLevel.objects.filter(store=store, product_id__in=ids).values_list("product_id", "on_hand")
    )
    rows = []
    for product_id, line in reversed(sheet.lines.items()):
        product = products.get(product_id)
        if product is None:
            continue
        now = book_now.get(product_id, Decimal("0"))
        rows.append(
            CountRow(
                product=product,
                counted=line.counted,
                book=now if line.book is None else line.book,
                book_now=now,
            )
        )
    return rows


@dataclass(frozen=True)
class CountPosted:
    reference: str
    lines: int
    moved: int
    approver: User | None


def stock_count_post(
    *, store, counts: dict, counted_by: User, approval: dict | None = None, books: dict | None = None
) -> CountPosted:
    """Post a handheld count sheet (``{product_id: counted}``): one ``stock.counted`` per line.

    ``books`` (``{product_id: book}``) is the book each line was counted against (``CountSheet``);
    a line without one is counted against the book now. Invariant: a count is posted by a
    supervisor or above, or with one's approval; the approval is checked before the transaction (a
    wrong PIN's count sticks, as at the till). The lines, their events (each names who counted and
    who approved, in its ``note``) and the ``stock_count`` audit entry (actor and approver) commit
    together or not at all.
    """
    if not counts:
        raise Invalid("Nothing counted yet: scan a product and enter how many.", code="count_empty")
    books = books or {}
    approver = None
    if count_post_needs_approval(user=counted_by):
        approver = approval_check(
            store_id=store.id, approval=approval, role=COUNT_POST_ROLE, action="posting a count"
        )
    reference = f"COUNT-{timezone.now():%Y%m%d-%H%M%S}"
    note = f"counted by {counted_by.username}" + (f", approved by {approver.username}" if approver else "")
    with transaction.atomic():
        movements = [
            stock_count(
                store_id=store.id,
                product_id=product_id,
                counted=Decimal(counted),
                reference=reference,
                note=note[:200],
                book=books.get(product_id),
            )
            for product_id, counted in counts.items()
        ]
        moved = sum(1 for m in movements if m is not None)
        audit_record(
            action="stock_count",
            actor=counted_by,
            approver=approver,
            store=store,
            subject=reference,
            details={"lines": len(movements), "moved": moved},
        )
    return CountPosted(reference=reference, lines=len(movements), moved=moved, approver=approver)


def count_sheet_post(
    *, store, sheet: CountSheet, counted_by: User, approval: dict | None = None
) -> CountPosted:
    """Post ``sheet`` (``stock_count_post``), each line against the book it was counted against."""
    return stock_count_post(
        store=store,
        counts={product_id: line.counted for product_id, line in sheet.lines.items()},
        books={product_id: line.book for product_id, line in sheet.lines.items() if line.book is not None},
        counted_by=counted_by,
        approval=approval,
    )
