"""Checkout reads: product search, a sale as the till shows it, suspended sales, redeemable points."""

from __future__ import annotations

import functools
import re
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Q, Subquery, Sum
from django.db.models.expressions import RawSQL
from django.utils import timezone

from retail.catalog.models import Barcode, Price, Product, TaxRate
from retail.dbmath import DecimalSum
from retail.members.models import Member
from retail.sales.models import Sale, SaleDiscount, SaleLine, SaleStatus, Tender
from retail.sqlrows import columns, joined_row, joined_rows
from retail.staff.models import Role
from retail.stores.models import Store, Terminal
from store_node.checkout.models import TerminalSession

_WORD = re.compile(r"\w+", re.UNICODE)
SEARCH_CANDIDATES = 300


def terminal_session_get(*, token: str) -> TerminalSession | None:
    """The live session with this token, its terminal (with the store) and user loaded, or ``None``.

    Every till request starts here, so it is one fixed SQL statement over the four tables (what
    ``select_related("terminal__store", "user")`` would send) without the ORM compiling it each time.
    """
    conn = connections[DEFAULT_DB_ALIAS]
    now = TerminalSession._meta.get_field("expires_at").get_db_prep_value(timezone.now(), conn)
    objects = joined_row(_session_sql(), [token, now], _session_models())
    if objects is None:
        return None
    session, terminal, store, user = objects
    terminal.store, session.terminal, session.user = store, terminal, user
    return session


def handheld_staff_get(*, staff_id, store_id):
    """The staff member signed in on a handheld, if they may still use this store's handhelds
    (active, of this store or head office, cashier or above: ``handheld_login``'s rule), else ``None``."""
    user = get_user_model().objects.filter(pk=staff_id, is_active=True).first()
    if user is None or not user.has_rank(Role.CASHIER):
        return None
    if user.store_id != store_id and user.role != Role.HEAD_OFFICE:
        return None
    return user


@functools.cache
def _session_sql() -> str:
    q = connection.ops.quote_name
    tables = {alias: q(m._meta.db_table) for m, alias in _session_models()}
    return (
        f"SELECT {columns(_session_models())} FROM {tables['s']} s "
        f"JOIN {tables['t']} t ON t.id = s.terminal_id JOIN {tables['st']} st ON st.id = t.store_id "
        f"JOIN {tables['u']} u ON u.id = s.user_id "
        "WHERE s.token = %s AND s.ended_at IS NULL AND s.expires_at > %s"
    )


@functools.cache
def _session_models():
    return [(TerminalSession, "s"), (Terminal, "t"), (Store, "st"), (get_user_model(), "u")]


def product_search(*, query: str, limit: int = 20) -> list[dict]:
    """Active products whose name (or SKU) words start with every word of ``query``.

    On SQLite this is the FTS5 index ``checkout_product_fts`` (prefix indexes of 2 and 3
    characters, diacritics folded), kept in step with ``catalog_product`` by triggers, so it answers
    from the index whatever path wrote the catalog (sync apply, bulk load, admin). Elsewhere it falls
    back to ``icontains``.
    """
    words = _WORD.findall(query or "")[:6]
    if any(len(w) > 1 for w in words):  # one letter matches everything and has no prefix index
        words = [w for w in words if len(w) > 1]
    if not words:
        return []
    if connection.vendor == "sqlite":
        # No ORDER BY rank: bm25 over thousands of prefix hits costs milliseconds, the first hits in
        # index order cost microseconds. Take a few hundred, rank those: names starting with the
        # first word first, then shorter names (the cashier types more letters to narrow down).
        match = " ".join(f'"{w}"*' for w in words)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT p.id, p.sku, p.name, p.unit, p.tax_class_id FROM checkout_product_fts f "
                "JOIN catalog_product p ON p.rowid = f.rowid "
                "WHERE checkout_product_fts MATCH %s AND p.active LIMIT %s",
                [match, SEARCH_CANDIDATES],
            )
            rows = cursor.fetchall()
        first = words[0].casefold()
        rows.sort(key=lambda r: (not r[2].casefold().startswith(first), len(r[2]), r[2]))
        to_uuid = Product._meta.pk.to_python
        return [
            {"id": to_uuid(r[0]), "sku": r[1], "name": r[2], "unit": r[3], "tax_class": r[4]}
            for r in rows[:limit]
        ]
    qs = Product.objects.filter(active=True)
    for w in words:
        qs = qs.filter(name__icontains=w)
    return [
        {"id": p.id, "sku": p.sku, "name": p.name, "unit": p.unit, "tax_class": p.tax_class_id}
        for p in qs.order_by("name")[:limit]
    ]


def product_words_match(*, query: str) -> Q:
    """A filter of ``Product``: the name or SKU has a word starting with every word of ``query``
    (``product_search``'s rule, without its cap: for listing every match; "FISH-" finds the SKUs
    FISH-1, FISH-2). On SQLite the FTS5 index answers it (milliseconds over 100,000 products, where
    a LIKE scan takes a tenth of a second); elsewhere ``icontains`` on the name or the SKU's start.
    No word matches nothing."""
    words = _WORD.findall(query or "")[:6]
    if any(len(w) > 1 for w in words):
        words = [w for w in words if len(w) > 1]
    if not words:
        return Q(pk__in=[])
    if connection.vendor == "sqlite":
        match = " ".join(f'"{w}"*' for w in words)
        return Q(
            pk__in=RawSQL(
                "SELECT p.id FROM checkout_product_fts f JOIN catalog_product p ON p.rowid = f.rowid "
                "WHERE checkout_product_fts MATCH %s",
                [match],
            )
        )
    by_name = Q()
    for w in words:
        by_name &= Q(name__icontains=w)
    return by_name | Q(sku__istartswith=query.strip())


@functools.cache
def _priced_sql(where: str, *, store_scoped: bool) -> str:
    product, price, rate = (connection.ops.quote_name(m._meta.db_table) for m in (Product, Price, TaxRate))
    store = "pr.store_id = %s" if store_scoped else "pr.store_id IS NULL"
    return (
        f"SELECT {columns([(Product, 'p')])}, "
        f"(SELECT pr.amount FROM {price} pr WHERE pr.product_id = p.id AND {store} "
        f"AND pr.effective_from <= %s ORDER BY pr.effective_from DESC LIMIT 1) AS store_price, "
        f"(SELECT pr.amount FROM {price} pr WHERE pr.product_id = p.id AND pr.store_id IS NULL "
        f"AND pr.effective_from <= %s ORDER BY pr.effective_from DESC LIMIT 1) AS chain_price, "
        f"(SELECT r.rate FROM {rate} r WHERE r.tax_class_id = p.tax_class_id "
        f"AND r.effective_from <= %s ORDER BY r.effective_from DESC LIMIT 1) AS rate "
        f"FROM {product} p WHERE {where} LIMIT 1"
    )


def product_priced(*, store_id=None, barcode: str | None = None, sku: str | None = None, product_id=None):
    """The product with this barcode (``catalog.Barcode.code``), SKU or id, annotated with
    ``store_price``, ``chain_price`` (the newest price in effect now for this store, for the chain)
    and ``rate`` (its tax class's rate in effect now), or ``None``. Give exactly one key.

    The same rule as ``retail.catalog.selectors.price_for``/``tax_rate_for``, in one statement: the
    scan is the till's hot path, and this SQL text never changes, so SQLite reuses its prepared
    statement where the ORM would rebuild and recompile three subqueries on every scan. Without a
    ``store_id`` the store price is the chain price.
    """
    conn = connections[DEFAULT_DB_ALIAS]
    if barcode is not None:
        where, key = (
            f"p.id = (SELECT b.product_id FROM {Barcode._meta.db_table} b WHERE b.code = %s)",
            barcode,
        )
    elif sku is not None:
        where, key = "p.sku = %s", sku
    else:
        where, key = "p.id = %s", Product._meta.pk.get_db_prep_value(product_id, conn)
    when = Price._meta.get_field("effective_from").get_db_prep_value(timezone.now(), conn)
    params = [when, when, when, key]
    if store_id is not None:
        params.insert(0, Price._meta.get_field("store").get_db_prep_value(store_id, conn))
    found = joined_row(_priced_sql(where, store_scoped=store_id is not None), params, [(Product, "p")])
    if found is None:
        return None
    product, store_price, chain_price, rate = found
    amount = Price._meta.get_field("amount")
    product.store_price = _decimal(amount, store_price)
    product.chain_price = _decimal(amount, chain_price)
    product.rate = _decimal(TaxRate._meta.get_field("rate"), rate)
    return product


def _decimal(field, value):
    # What the ORM's converter does with a raw column (SQLite returns a DecimalField as a float).
    if value is None:
        return None
    return field.to_python(value).quantize(Decimal(1).scaleb(-field.decimal_places))


def points_redeemable(*, member: Member, sale: Sale | None = None) -> int:
    """Points this store may let the member redeem now, online or offline.

    The local balance projection is what head office last told this store plus everything this store
    posted since (its own redemptions included, as negative entries), so it already is "the balance
    this store knows minus what it redeemed since its last sync". Points tendered on the open
    ``sale`` but not yet posted are subtracted as well. Never negative.
    """
    # A merged member's card redeems its survivor's balance (the points it earns land there too).
    survivor = Member.objects.filter(pk=member.pk).values("merged_into")
    balance = (
        Member.objects.filter(Q(pk=member.pk, merged_into__isnull=True) | Q(pk=Subquery(survivor[:1])))
        .values_list("points_balance", flat=True)
        .get()
    )
    pending = 0
    if sale is not None:
        pending = (
            Tender.objects.filter(sale=sale, kind="points", approved=True).aggregate(p=Sum("points"))["p"]
            or 0
        )
    return max(0, balance - pending)


@functools.cache
def _sale_at_store_sql() -> str:
    q = connection.ops.quote_name
    sale, discount, tender = (q(m._meta.db_table) for m in (Sale, SaleDiscount, Tender))
    return (
        f"SELECT {columns([(Sale, 's')])}, "
        f"EXISTS (SELECT 1 FROM {discount} d WHERE d.sale_id = s.id) AS has_discount, "
        f"EXISTS (SELECT 1 FROM {tender} t WHERE t.sale_id = s.id) AS has_tenders "
        f"FROM {sale} s WHERE s.id = %s AND s.store_id = %s"
    )


def sale_at_store(*, sale_id, store_id) -> Sale | None:
    """The sale if it is this store's, with ``has_discount`` and ``has_tenders`` (booleans) so the
    scan need not ask for a discount or tenders that do not exist; one fixed SQL statement."""
    conn, pk = connections[DEFAULT_DB_ALIAS], Sale._meta.pk
    params = [pk.get_db_prep_value(pk.to_python(sale_id), conn), pk.get_db_prep_value(store_id, conn)]
    found = joined_row(_sale_at_store_sql(), params, [(Sale, "s")])
    if found is None:
        return None
    sale, has_discount, has_tenders = found
    sale.has_discount, sale.has_tenders = bool(has_discount), bool(has_tenders)
    return sale


@functools.cache
def _sale_open_on_sql() -> str:
    q = connection.ops.quote_name
    status, terminal = (q(Sale._meta.get_field(f).column) for f in ("status", "terminal"))
    return (
        f"SELECT {q(Sale._meta.pk.column)} FROM {q(Sale._meta.db_table)} "
        f"WHERE {status} = %s AND {terminal} = %s LIMIT 1"
    )


def sale_open_on(*, terminal_id):
    """The id of the terminal's open sale, or ``None``: one fixed statement, asked on every sale open."""
    conn = connections[DEFAULT_DB_ALIAS]
    params = [SaleStatus.OPEN, Sale._meta.get_field("terminal").get_db_prep_value(terminal_id, conn)]
    with conn.cursor() as cursor:
        cursor.execute(_sale_open_on_sql(), params)
        row = cursor.fetchone()
    return None if row is None else Sale._meta.pk.to_python(row[0])


@functools.cache
def _sale_lines_sql(with_units: bool) -> str:
    q = connection.ops.quote_name
    unit, join = "", ""
    if with_units:
        unit = f", p.{q(Product._meta.get_field('unit').column)}"
        join = f" JOIN {q(Product._meta.db_table)} p ON p.{q(Product._meta.pk.column)} = l.product_id"
    return (
        f"SELECT {columns([(SaleLine, 'l')])}{unit} FROM {q(SaleLine._meta.db_table)} l{join} "
        "WHERE l.sale_id = %s ORDER BY l.position"
    )


def sale_lines(*, sale_id, with_units: bool = False) -> list[SaleLine]:
    """The sale's lines in position order, from one fixed SQL statement: a 50-line sale is read on
    every scan, and the ORM's per-query and per-row work cost more than the rows themselves.
    ``with_units``: each line also carries ``product_unit``, its product's unit (for the receipt)."""
    conn, pk = connections[DEFAULT_DB_ALIAS], Sale._meta.pk
    rows = joined_rows(
        _sale_lines_sql(with_units), [pk.get_db_prep_value(pk.to_python(sale_id), conn)], [(SaleLine, "l")]
    )
    lines = []
    for objects in rows:
        if with_units:
            objects[0].product_unit = objects[1]
        lines.append(objects[0])
    return lines


def sale_detail(*, sale_id) -> tuple[Sale, list[SaleLine], list[Tender]]:
    sale = Sale.objects.select_related("member").get(pk=sale_id)
    lines = sale_lines(sale_id=sale.id)
    tenders = list(Tender.objects.filter(sale=sale).order_by("created_at"))
    return sale, lines, tenders


def sale_tenders(*, sale) -> list[Tender]:
    return list(Tender.objects.filter(sale=sale).order_by("created_at"))


def sales_suspended(*, store_id) -> list[Sale]:
    return list(
        Sale.objects.filter(store_id=store_id, status=SaleStatus.SUSPENDED)
        .select_related("terminal", "cashier")
        .order_by("created_at")
    )


def sale_by_receipt(*, receipt_number: str) -> Sale | None:
    return Sale.objects.filter(receipt_number=receipt_number.upper(), status=SaleStatus.COMPLETED).first()


def returned_quantities(*, sale: Sale) -> dict:
    """Per original line id, the quantity already returned (a positive number)."""
    rows = (
        SaleLine.objects.filter(original_line__sale=sale, sale__status=SaleStatus.COMPLETED)
        .values("original_line_id")
        .annotate(q=DecimalSum("quantity", places=3))
    )
    return {r["original_line_id"]: -r["q"] for r in rows}
