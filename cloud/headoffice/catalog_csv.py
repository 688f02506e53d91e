"""CSV import and export of the catalog and prices: validated row by row, applied all or nothing.

Import never half-applies a file: every row is checked first (fields, tax classes, barcodes, clashes
between rows and with products not in the file); if any row is refused the report lists each one
with its reason and nothing is written. Otherwise one transaction writes the rows in bulk and
appends a ``product.updated`` / ``price.set`` event per changed product or price (rows that change
nothing write nothing, so importing the same file twice is a no-op).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from cloud.api.selectors import chain_prices
from retail.barcodes import BarcodeError, normalise_gtin
from retail.catalog.models import Barcode, Price, Product, TaxClass, Unit
from retail.catalog.services import product_payload
from retail.outbox.services import event_append
from retail.stores.models import Store

PRODUCT_COLUMNS = ["sku", "name", "unit", "tax_class", "active", "barcodes", "price"]
PRICE_COLUMNS = ["sku", "store", "amount", "effective_from"]
REQUIRED_PRODUCT_COLUMNS = {"sku", "name", "unit", "tax_class"}
REQUIRED_PRICE_COLUMNS = {"sku", "amount"}
_SKU = re.compile(r"^[A-Za-z0-9._-]{1,32}$")
_ITEM_CODE = re.compile(r"^[A-Za-z0-9-]{1,32}$")
_TRUE = {"1", "true", "yes", "y", "on"}
_FALSE = {"0", "false", "no", "n", "off"}
# Progress is reported every this many rows: (phase, rows done, rows in all).
PROGRESS_EVERY = 1000
Progress = Callable[[str, int, int], None]


@dataclass
class RefusedRow:
    line: int  # the line in the file (the header is line 1)
    key: str
    reason: str


@dataclass
class ImportReport:
    rows: int = 0
    refused: list[RefusedRow] = field(default_factory=list)
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    prices: int = 0

    @property
    def applied(self) -> bool:
        return not self.refused and self.rows > 0


def _noop(phase: str, done: int, total: int) -> None:
    pass


def _read(text: str | bytes, required: set[str]) -> tuple[list[dict], list[RefusedRow]]:
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            return [], [RefusedRow(0, "", "the file is not UTF-8 text")]
    reader = csv.DictReader(io.StringIO(text))
    header = {(h or "").strip() for h in reader.fieldnames or []}
    missing = required - header
    if missing:
        return [], [RefusedRow(1, "", f"missing columns: {', '.join(sorted(missing))}")]
    rows = []
    for row in reader:
        if None in row:
            return rows, [RefusedRow(reader.line_num, "", "more values than columns")]
        rows.append({(k or "").strip(): (v or "").strip() for k, v in row.items()})
    return rows, []


def _money(text: str) -> Decimal:
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not an amount: {text!r}") from None
    if not amount.is_finite() or amount < 0 or amount.as_tuple().exponent < -2 or amount >= 10**10:
        raise ValueError(f"not an amount of money: {text!r}")
    return amount.quantize(Decimal("0.01"))


def _moment(text: str, now: datetime) -> datetime:
    if not text:
        return now
    moment = parse_datetime(text)
    if moment is None and parse_date(text) is not None:
        moment = parse_datetime(text + "T00:00:00")
    if moment is None:
        raise ValueError(f"not a date or time: {text!r}")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)


def _barcode(code: str) -> str:
    if code.isdigit() and len(code) in (8, 12, 13, 14):
        return normalise_gtin(code)
    if code.isdigit() or not _ITEM_CODE.fullmatch(code):
        raise BarcodeError(f"not a barcode: {code!r}", code="unknown", raw=code)
    return code


@dataclass
class _ProductRow:
    line: int
    sku: str
    name: str
    unit: str
    tax_class: str
    active: bool
    barcodes: list[str] | None  # None: the file has no barcodes column, keep the product's
    price: Decimal | None


def catalog_import(*, data: str | bytes, progress: Progress = _noop) -> ImportReport:
    """Create or change products (by SKU), their barcodes and chain-wide price from a CSV file."""
    rows, refused = _read(data, REQUIRED_PRODUCT_COLUMNS)
    report = ImportReport(rows=len(rows), refused=refused)
    if refused:
        return report
    tax_classes = set(TaxClass.objects.values_list("code", flat=True))
    existing = {p.sku: p for p in Product.objects.all()}
    owners = dict(Barcode.objects.values_list("code", "product__sku"))
    parsed: list[_ProductRow] = []
    seen_skus: dict[str, int] = {}
    claimed: dict[str, tuple[str, int]] = {}
    for n, row in enumerate(rows, start=2):
        sku = row.get("sku", "")
        try:
            if not _SKU.fullmatch(sku):
                raise ValueError(f"SKU must be 1-32 letters, digits, '.', '_' or '-': {sku!r}")
            if sku in seen_skus:
                raise ValueError(f"SKU {sku} is also on line {seen_skus[sku]}")
            name = row.get("name", "")
            if not name or len(name) > 200:
                raise ValueError("name is required, at most 200 characters")
            unit = row.get("unit", "") or Unit.EACH
            if unit not in Unit.values:
                raise ValueError(f"unit must be one of {', '.join(Unit.values)}: {unit!r}")
            tax_class = row.get("tax_class", "")
            if tax_class not in tax_classes:
                raise ValueError(f"unknown tax class {tax_class!r}")
            active_text = row.get("active", "").lower() or "true"
            if active_text not in _TRUE | _FALSE:
                raise ValueError(f"active must be true or false: {active_text!r}")
            barcodes = None
            if "barcodes" in row:
                barcodes = sorted({_barcode(code) for code in row["barcodes"].split()})
                for code in barcodes:
                    if code in claimed:
                        raise ValueError(f"barcode {code} is also on line {claimed[code][1]}")
            price = _money(row["price"]) if row.get("price") else None
        except (ValueError, BarcodeError) as error:
            report.refused.append(RefusedRow(n, sku, str(error)))
            continue
        seen_skus[sku] = n
        for code in barcodes or []:
            claimed[code] = (sku, n)
        parsed.append(_ProductRow(n, sku, name, unit, tax_class, active_text in _TRUE, barcodes, price))
        if n % PROGRESS_EVERY == 0:
            progress("check", n - 1, len(rows))
    # A barcode may move between products of the file, never away from a product not in it.
    for code, (sku, n) in claimed.items():
        owner = owners.get(code)
        if owner is not None and owner != sku and owner not in seen_skus:
            report.refused.append(RefusedRow(n, sku, f"barcode {code} belongs to product {owner}"))
    progress("check", len(rows), len(rows))
    if report.refused:
        report.refused.sort(key=lambda r: r.line)
        return report
    _apply_products(parsed, existing, owners, report, progress)
    return report


def _apply_products(parsed, existing, owners, report: ImportReport, progress: Progress) -> None:
    now = timezone.now()
    with transaction.atomic():
        new, changed, touched = [], [], []
        for row in parsed:
            product = existing.get(row.sku)
            values = (row.name, row.unit, row.tax_class, row.active)
            if product is None:
                product = Product(sku=row.sku, name=row.name, unit=row.unit, tax_class_id=row.tax_class)
                product.active, product.updated_at = row.active, now
                new.append(product)
            elif (product.name, product.unit, product.tax_class_id, product.active) != values:
                product.name, product.unit, product.tax_class_id, product.active = values
                product.updated_at = now
                changed.append(product)
            touched.append((row, product))
        Product.objects.bulk_create(new, batch_size=1000)
        Product.objects.bulk_update(
            changed, ["name", "unit", "tax_class", "active", "updated_at"], batch_size=1000
        )
        report.created, report.changed = len(new), len(changed)
        dirty = {p.id for p in new} | {p.id for p in changed}
        barcodes_now: dict = {}
        for code, sku in owners.items():
            barcodes_now.setdefault(sku, set()).add(code)
        drop, add = [], []
        for row, product in touched:
            if row.barcodes is None:
                continue
            have, want = barcodes_now.get(row.sku, set()), set(row.barcodes)
            if have != want:
                drop.extend(have - want)
                add.extend(Barcode(code=c, product=product) for c in want - have)
                dirty.add(product.id)
        for start in range(0, len(drop), 1000):
            Barcode.objects.filter(code__in=drop[start : start + 1000]).delete()
        moving = [b.code for b in add]  # codes moving from another product of the file
        for start in range(0, len(moving), 1000):
            Barcode.objects.filter(code__in=moving[start : start + 1000]).delete()
        Barcode.objects.bulk_create(add, batch_size=1000)
        current = {}
        for start in range(0, len(touched), 1000):
            current.update(chain_prices(product_ids=[p.id for _, p in touched[start : start + 1000]], at=now))
        prices = [
            Price(product=product, store=None, amount=row.price, effective_from=now)
            for row, product in touched
            if row.price is not None and current.get(product.id) != row.price
        ]
        Price.objects.bulk_create(prices, batch_size=1000)
        report.prices = len(prices)
        codes: dict = {}
        for code, product_id in Barcode.objects.filter(product_id__in=dirty).values_list(
            "code", "product_id"
        ):
            codes.setdefault(product_id, []).append(code)
        steps = len(touched) + len(prices)
        for done, (_, product) in enumerate(touched, start=1):
            if product.id in dirty:
                event_append(
                    type="product.updated", payload=product_payload(product, codes.get(product.id, []))
                )
            if done % PROGRESS_EVERY == 0:
                progress("apply", done, steps)
        for done, price in enumerate(prices, start=len(touched) + 1):
            event_append(type="price.set", payload=_price_payload(price))
            if done % PROGRESS_EVERY == 0:
                progress("apply", done, steps)
        affected = dirty | {p.product_id for p in prices}
        report.changed = len(affected) - report.created
        report.unchanged = len(touched) - len(affected)
        progress("apply", steps, steps)


def _price_payload(price: Price) -> dict:
    return {
        "id": price.id,
        "product_id": price.product_id,
        "store_id": price.store_id,
        "amount": price.amount,
        "effective_from": price.effective_from,
    }


def prices_import(*, data: str | bytes, progress: Progress = _noop, store=None) -> ImportReport:
    """Set prices from a CSV file (sku, store code or blank for chain-wide, amount, effective_from).

    With ``store`` (a store manager's import) every row must be for that store.
    """
    rows, refused = _read(data, REQUIRED_PRICE_COLUMNS)
    report = ImportReport(rows=len(rows), refused=refused)
    if refused:
        return report
    now = timezone.now()
    products = dict(Product.objects.values_list("sku", "id"))
    stores = dict(Store.objects.values_list("code", "id"))
    parsed, seen = [], {}
    for n, row in enumerate(rows, start=2):
        sku, code = row.get("sku", ""), row.get("store", "")
        try:
            if sku not in products:
                raise ValueError(f"unknown SKU {sku!r}")
            if code and code not in stores:
                raise ValueError(f"unknown store {code!r}")
            if store is not None and code != store.code:
                raise ValueError(f"you may only set prices of store {store.code}")
            amount = _money(row.get("amount", ""))
            moment = _moment(row.get("effective_from", ""), now)
            key = (sku, code, moment)
            if key in seen:
                raise ValueError(f"the same price is also on line {seen[key]}")
        except ValueError as error:
            report.refused.append(RefusedRow(n, sku, str(error)))
            continue
        seen[key] = n
        parsed.append(
            Price(product_id=products[sku], store_id=stores.get(code), amount=amount, effective_from=moment)
        )
        if n % PROGRESS_EVERY == 0:
            progress("check", n - 1, len(rows))
    progress("check", len(rows), len(rows))
    if report.refused:
        return report
    with transaction.atomic():
        existing = {}
        product_ids = list({p.product_id for p in parsed})
        for start in range(0, len(product_ids), 1000):
            for price in Price.objects.filter(product_id__in=product_ids[start : start + 1000]):
                existing[(price.product_id, price.store_id, price.effective_from)] = price
        new, changed = [], []
        for price in parsed:
            old = existing.get((price.product_id, price.store_id, price.effective_from))
            if old is None:
                new.append(price)
            elif old.amount != price.amount:
                old.amount = price.amount
                changed.append(old)
        Price.objects.bulk_create(new, batch_size=1000)
        Price.objects.bulk_update(changed, ["amount"], batch_size=1000)
        for done, price in enumerate([*new, *changed], start=1):
            event_append(type="price.set", payload=_price_payload(price))
            if done % PROGRESS_EVERY == 0:
                progress("apply", done, len(new) + len(changed))
        report.created, report.changed = len(new), len(changed)
        report.unchanged = len(parsed) - len(new) - len(changed)
        report.prices = len(new) + len(changed)
        progress("apply", len(parsed), len(parsed))
    return report


def _csv_lines(header: list[str], rows: Iterable[list]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def catalog_export(*, products=None) -> Iterator[str]:
    """The catalog as CSV in the import's format (re-importing it changes nothing), streamed in chunks."""
    products = (products if products is not None else Product.objects.all()).order_by("sku")

    def rows():
        ids_seen = products.values_list("id", flat=True).iterator(chunk_size=2000)
        batch = []
        for product_id in ids_seen:
            batch.append(product_id)
            if len(batch) == 2000:
                yield from _product_rows(batch)
                batch = []
        if batch:
            yield from _product_rows(batch)

    return _csv_lines(PRODUCT_COLUMNS, rows())


def _product_rows(ids: list) -> Iterator[list]:
    prices = chain_prices(product_ids=ids)
    codes: dict = {}
    for code, product_id in Barcode.objects.filter(product_id__in=ids).values_list("code", "product_id"):
        codes.setdefault(product_id, []).append(code)
    for p in Product.objects.filter(id__in=ids).order_by("sku"):
        price = prices.get(p.id)
        yield [
            p.sku,
            p.name,
            p.unit,
            p.tax_class_id,
            "true" if p.active else "false",
            " ".join(sorted(codes.get(p.id, []))),
            "" if price is None else str(price),
        ]


def prices_export(*, prices=None) -> Iterator[str]:
    prices = (prices if prices is not None else Price.objects.all()).order_by(
        "product__sku", "store__code", "effective_from"
    )
    rows = (
        [sku, code or "", str(amount), moment.isoformat()]
        for sku, code, amount, moment in prices.values_list(
            "product__sku", "store__code", "amount", "effective_from"
        ).iterator(chunk_size=2000)
    )
    return _csv_lines(PRICE_COLUMNS, rows)
