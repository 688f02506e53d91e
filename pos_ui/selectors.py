"""Reads the screens need that compose the domain's own selectors (no rule of their own here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q

from hardware.layout import PAPER_58MM, PAPER_80MM, receipt_layout
from hardware.payload import receipt_from_dict
from hardware.preview import render_html
from retail.api_errors import DomainError
from retail.barcodes import BarcodeError, parse_scan
from retail.catalog.models import Barcode, Product, TaxClass
from retail.catalog.selectors import price_for
from retail.money import money_sum
from retail.pricing import cash_due
from retail.sales.models import Sale, SaleStatus, Tender, TenderKind
from retail.shifts.selectors import shift_open_for
from retail.stock.models import StockLevel
from retail.stores.models import Store, Terminal
from store_node.checkout.selectors import product_search, product_words_match
from store_node.checkout.services.sales import product_for_scan
from store_node.checkout.services.tenders import cash_increment
from store_node.devices import publish
from store_node.devices.models import DrawerKick, PrintJob, PrintKind, PrintStatus
from store_node.orders.selectors import held_for_orders
from store_node.sync.models import PeerLastSync
from store_node.sync.selectors import sync_status


def this_store() -> Store | None:
    return Store.objects.filter(code=settings.STORE_CODE).first()


@dataclass(frozen=True)
class NodeStatus:
    """What the status bar shows: the node's link to head office and its devices."""

    online: bool | None
    pending: int
    last_sync: datetime | None
    printer: str = "unknown"
    printer_state: str = "unknown"  # ready, unknown or trouble: the pill's colour
    clock_warning: str = ""

    @property
    def printer_label(self) -> str:
        return self.printer if self.printer.lower().startswith("printer") else f"Printer: {self.printer}"


def node_status(*, terminal=None) -> NodeStatus:
    """The sync engine's view (online, events waiting, last sync) and the terminal's printer.

    The printer state is what its print queue says: a job that failed (paper out, cover open,
    offline) names the trouble until a later job prints; the hardware glue pushes live changes over
    the terminal's WebSocket on top of this.
    """
    sync = sync_status()
    printer, state = "unknown", "unknown"
    board_state = publish.current_board.get(terminal.id) if terminal and publish.current_board else None
    if board_state is not None:
        printer = board_state.detail or board_state.status
        state = {"ready": "ready", "unknown": "unknown"}.get(board_state.status, "trouble")
    elif terminal is not None:
        job = (
            PrintJob.objects.filter(terminal=terminal)
            .order_by("-created_at")
            .only("status", "last_error")
            .first()
        )
        if job is not None:
            printer = {
                PrintStatus.PRINTED: "ready",
                PrintStatus.FAILED: job.last_error or "failed",
            }.get(job.status, "printing")
            state = {PrintStatus.PRINTED: "ready", PrintStatus.FAILED: "trouble"}.get(job.status, "unknown")
    return NodeStatus(
        online=sync.online if sync.enrolled else None,
        pending=sync.events_waiting,
        last_sync=sync.last_sync_at,
        printer=printer,
        printer_state=state,
        clock_warning=sync.clock_warning,
    )


def terminal_here(*, terminal_id) -> Terminal | None:
    return (
        Terminal.objects.select_related("store")
        .filter(pk=terminal_id, store__code=settings.STORE_CODE, active=True)
        .first()
    )


def product_by_id(*, product_id) -> Product | None:
    try:
        return Product.objects.filter(pk=product_id).first()
    except (ValueError, DjangoValidationError):
        return None


def shift_for(*, terminal):
    return shift_open_for(terminal=terminal)


def sale_open_on(*, terminal) -> Sale | None:
    return Sale.objects.filter(terminal=terminal, status=SaleStatus.OPEN).only("id").first()


QUICK_NOTES = (Decimal("5"), Decimal("10"), Decimal("20"), Decimal("50"), Decimal("100"))


def tender_figures(*, sale: Sale, tenders: list[Tender]) -> dict:
    """What the tender screen shows: paid by card and points, cash due (rounded to the coin by the
    pricing rule), cash handed over so far, and quick cash amounts (the exact cash, then notes)."""
    non_cash = money_sum(t.amount for t in tenders if t.kind != TenderKind.CASH and t.approved)
    cash_in = money_sum(t.tendered or 0 for t in tenders if t.kind == TenderKind.CASH)
    due = cash_due(sale.total, non_cash, cash_increment=cash_increment())
    quick = [due] + [n for n in QUICK_NOTES if n > due][:3] if due > 0 else []
    return {
        "non_cash_paid": non_cash,
        "cash_due": due,
        "cash_tendered": cash_in,
        "still_due": max(due - cash_in, Decimal("0.00")),
        "quick_amounts": quick,
    }


def receipt_job(*, terminal, sale_id) -> PrintJob | None:
    number = Sale.objects.filter(pk=sale_id).values_list("receipt_number", flat=True).first()
    if not number:
        return None
    return (
        PrintJob.objects.filter(terminal=terminal, kind=PrintKind.RECEIPT, payload__receipt_number=number)
        .order_by("-created_at")
        .first()
    )


PAPER_OUT = "Sale saved — reload paper, then Reprint (F9)"
NOT_PRINTED = "Sale saved — the receipt did not print: check the printer, then Reprint (F9)"


def receipt_print_problem(*, terminal, job: PrintJob | None) -> str:
    """What the cashier is told when the receipt has not printed and will not by itself: the printer
    is out of paper (its last report, or this job's last attempt), or the job failed for good."""
    if job is None or job.status == PrintStatus.PRINTED:
        return ""
    board = publish.current_board.get(terminal.id) if publish.current_board else None
    if (board is not None and board.status == "paper_out") or job.last_error.startswith("paper_out"):
        return PAPER_OUT
    if job.status == PrintStatus.FAILED:
        return NOT_PRINTED
    return ""


def receipt_state(*, terminal, sale: Sale) -> dict:
    """The receipt's print job (state and preview, the virtual printer's HTML rendering, what to do
    if it has not printed), the terminal's print queue, and its last drawer kick."""
    job = receipt_job(terminal=terminal, sale_id=sale.id)
    preview, preview_error = "", ""
    if job is not None:
        try:
            layout = receipt_layout(
                receipt_from_dict(job.payload), PAPER_58MM if terminal.paper_width_mm == 58 else PAPER_80MM
            )
            preview = render_html(layout)
        except (TypeError, ValueError, KeyError) as exc:
            preview_error = f"No preview for this receipt ({exc.__class__.__name__})."
    queue = PrintJob.objects.filter(
        terminal=terminal, status__in=[PrintStatus.QUEUED, PrintStatus.PRINTING, PrintStatus.FAILED]
    ).count()
    kick = DrawerKick.objects.filter(terminal=terminal).order_by("-requested_at").first()
    return {
        "job": job,
        "print_problem": receipt_print_problem(terminal=terminal, job=job),
        "paper_out": PAPER_OUT,
        "preview": preview,
        "preview_error": preview_error,
        "print_queue": queue,
        "drawer_kick": kick,
    }


# The euro's notes and coins, largest first: the Z report's cash count form.
DENOMINATIONS = (
    "500.00", "200.00", "100.00", "50.00", "20.00", "10.00", "5.00",
    "2.00", "1.00", "0.50", "0.20", "0.10", "0.05", "0.02", "0.01",
)  # fmt: skip


def denominations() -> tuple[str, ...]:
    return DENOMINATIONS


@dataclass(frozen=True)
class StoreStock:
    store: Store
    on_hand: Decimal
    as_of: datetime  # when this node last received a change of the figure
    synced_at: datetime | None = None  # that store's last sync with head office, as this node heard it


@dataclass(frozen=True)
class Lookup:
    """A handheld look-up: the product with its price and stock here and at the other stores."""

    query: str
    product: Product | None = None
    price: Decimal | None = None
    on_hand_here: Decimal | None = None
    held_here: Decimal = Decimal("0")  # spoken for by this store's open click-and-collect orders
    elsewhere: list[StoreStock] = field(default_factory=list)
    matches: list[dict] = field(default_factory=list)
    error: str = ""

    @property
    def free_here(self) -> Decimal | None:
        """On hand here less what open pickup orders hold (negative when they hold more)."""
        return None if self.on_hand_here is None else self.on_hand_here - self.held_here


def handheld_lookup(*, query: str, store: Store | None) -> Lookup:
    """Scan or typed text to a product card; text that is no code becomes a name search.

    Other stores' levels are this node's copy of them: their age is the time of the last change
    this node received (``StockLevel.updated_at``), shown next to each figure.
    """
    query = query.strip()
    try:
        scan = parse_scan(query)
    except BarcodeError as exc:
        return Lookup(query=query, error=str(exc))
    try:
        product = product_for_scan(scan) if scan.kind not in ("receipt", "member") else None
    except DomainError:
        product = None
    if product is None:
        matches = product_search(query=query) if scan.kind == "sku_or_text" else []
        if len(matches) == 1:
            product = Product.objects.get(pk=matches[0]["id"])
        elif matches:
            return Lookup(query=query, matches=matches)
        else:
            return Lookup(query=query, error=f"No product for {query!r}.")
    levels = list(StockLevel.objects.filter(product=product).select_related("store").order_by("store__code"))
    here = next((lv.on_hand for lv in levels if store and lv.store_id == store.id), Decimal("0"))
    synced = dict(PeerLastSync.objects.values_list("store_code", "last_contact_at"))
    elsewhere = [
        StoreStock(
            store=lv.store, on_hand=lv.on_hand, as_of=lv.updated_at, synced_at=synced.get(lv.store.code)
        )
        for lv in levels
        if not store or lv.store_id != store.id
    ]
    return Lookup(
        query=query,
        product=product,
        price=price_for(product_id=product.id, store_id=store.id if store else None),
        on_hand_here=here,
        held_here=held_for_orders(store_id=store.id, product_id=product.id) if store else Decimal("0"),
        elsewhere=elsewhere,
    )


COUNT_LIST_LIMIT = 100  # rows on one list: more is no list to count on a phone; narrow it instead
COUNT_LIST_STOCK = {
    "any": "Every product",
    "on_hand": "On the book here",
    "negative": "Below zero on the book",
}


@dataclass(frozen=True)
class CountListRow:
    product: Product
    book: Decimal  # on the book here now (the page shows it only where the store's policy says so)


@dataclass(frozen=True)
class CountList:
    rows: list[CountListRow]
    total: int  # products that match; only the first ``COUNT_LIST_LIMIT`` are rows

    @property
    def cut(self) -> bool:
        return self.total > len(self.rows)


def count_list_tax_classes() -> list[TaxClass]:
    return list(TaxClass.objects.order_by("code"))


def count_list(*, store: Store, query: str = "", tax_class: str = "", stock: str = "any") -> CountList:
    """The active products to count from a list: those with a word of the name or SKU starting with
    every word of ``query`` (as the till's search: "tuna 200", "FISH-"), or the one a scanned barcode
    names; of one tax class; on the book here (``on_hand``) or below zero on it (``negative``)."""
    products = Product.objects.filter(active=True)
    query = query.strip()
    if query:
        codes = {query}
        try:
            scan = parse_scan(query)
        except BarcodeError:
            scan = None
        if scan is not None and scan.kind in ("gtin", "gs1", "variable_measure"):
            codes.add(scan.key)
        products = products.filter(
            product_words_match(query=query)
            | Q(id__in=Barcode.objects.filter(code__in=codes).values("product_id"))
        )
    if tax_class:
        products = products.filter(tax_class_id=tax_class)
    levels = StockLevel.objects.filter(store=store)
    if stock == "on_hand":
        products = products.filter(id__in=levels.filter(on_hand__gt=0).values("product_id"))
    elif stock == "negative":
        products = products.filter(id__in=levels.filter(on_hand__lt=0).values("product_id"))
    total = products.count()
    chosen = list(products.order_by("name", "sku")[:COUNT_LIST_LIMIT])
    book = dict(levels.filter(product_id__in=[p.id for p in chosen]).values_list("product_id", "on_hand"))
    return CountList(
        rows=[CountListRow(product=p, book=book.get(p.id, Decimal("0"))) for p in chosen], total=total
    )
