"""Reads the screens need that compose the domain's own selectors (no rule of their own here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings

from retail.barcodes import BarcodeError, ScanResult, parse_scan
from retail.catalog.models import Barcode, Product
from retail.catalog.selectors import price_for
from retail.outbox.models import Event
from retail.outbox.services import node_origin
from retail.stock.models import StockLevel
from retail.stores.models import Store


def this_store() -> Store | None:
    return Store.objects.filter(code=settings.STORE_CODE).first()


@dataclass(frozen=True)
class NodeStatus:
    """What the status bar shows: the node's link to head office and its devices."""

    online: bool | None
    pending: int
    last_sync: datetime | None
    printer: str = "unknown"


def node_status() -> NodeStatus:
    """Events of this node not yet at head office, and the last sync.

    Until the sync engine records acknowledgements, every event this node wrote is waiting and the
    node has never synced.
    """
    pending = Event.objects.filter(origin=node_origin()).count()
    return NodeStatus(online=None, pending=pending, last_sync=None)


def product_by_scan(*, scan: ScanResult) -> Product | None:
    """The product a parsed scan names: a GTIN or the item code of a variable-measure label, or an SKU."""
    keys: list[str] = []
    if scan.kind in ("gtin", "gs1"):
        keys = [scan.key]
    elif scan.kind == "variable_measure":
        keys = [f"{scan.prefix}{scan.key}", scan.key]
    if keys:
        found = {b.code: b.product for b in Barcode.objects.filter(code__in=keys).select_related("product")}
        return next((found[k] for k in keys if k in found), None)
    if scan.kind == "sku_or_text":
        return Product.objects.filter(sku=scan.key).first()
    return None


@dataclass(frozen=True)
class StoreStock:
    store: Store
    on_hand: Decimal
    as_of: datetime


@dataclass(frozen=True)
class Lookup:
    """A handheld look-up: the product with its price and stock here and at the other stores."""

    query: str
    product: Product | None = None
    price: Decimal | None = None
    on_hand_here: Decimal | None = None
    elsewhere: list[StoreStock] = field(default_factory=list)
    matches: list[Product] = field(default_factory=list)
    error: str = ""


def product_search(*, text: str, limit: int = 20) -> list[Product]:
    text = text.strip()
    if len(text) < 2:
        return []
    return list(Product.objects.filter(name__icontains=text, active=True).order_by("name")[:limit])


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
    product = product_by_scan(scan=scan)
    if product is None:
        matches = product_search(text=query) if scan.kind == "sku_or_text" else []
        if len(matches) == 1:
            product = matches[0]
        elif matches:
            return Lookup(query=query, matches=matches)
        else:
            return Lookup(query=query, error=f"No product for {query!r}.")
    levels = list(StockLevel.objects.filter(product=product).select_related("store").order_by("store__code"))
    here = next((lv.on_hand for lv in levels if store and lv.store_id == store.id), Decimal("0"))
    elsewhere = [
        StoreStock(store=lv.store, on_hand=lv.on_hand, as_of=lv.updated_at)
        for lv in levels
        if not store or lv.store_id != store.id
    ]
    return Lookup(
        query=query,
        product=product,
        price=price_for(product_id=product.id, store_id=store.id if store else None),
        on_hand_here=here,
        elsewhere=elsewhere,
    )
