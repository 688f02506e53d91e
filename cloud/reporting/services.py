"""Writes of the reporting app: keeping the pre-aggregated daily figures up to date."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from cloud.api.models import Order, OrderLine
from cloud.reporting.live import live_notify
from cloud.reporting.models import (
    Channel,
    DailyChainProductSales,
    DailyProductSales,
    DailyStoreSales,
    DailyTender,
    MonthlyChainProductSales,
    RolledUpOrder,
    RolledUpSale,
)
from retail.dbcopy import ids_existing, pg_array, pg_cursor, pg_upserts_add, rows_insert, upsert_add_statement
from retail.sales.models import Sale, SaleKind, SaleLine, SaleStatus, Tender


def sale_local_day(sale: Sale):
    """The calendar day of the sale in its store's time zone: what a manager calls 'that day'."""
    moment = sale.completed_at or sale.created_at
    return moment.astimezone(ZoneInfo(sale.store.time_zone or "UTC")).date()


def _upsert_add(
    model: type[models.Model],
    keys: tuple[str, ...],
    rows: dict[tuple, dict],
    *,
    conflict_where: str = "",
    into: list | None = None,
) -> None:
    """Add each row's increments to the row its key names, creating the missing ones: one
    ``INSERT ... ON CONFLICT (keys) DO UPDATE SET f = f + EXCLUDED.f`` per chunk (PostgreSQL and
    SQLite), keys in sorted order so concurrent writers lock rows in the same order.
    ``conflict_where`` names a partial unique index's condition (SQL), e.g. ``store_id IS NULL``.
    On PostgreSQL, ``into`` collects the statement instead, for ``pg_upserts_add`` to send with
    others of other tables in one round trip."""
    if not rows:
        return
    meta = model._meta
    first = next(iter(rows.values()))
    sums = list(first)
    if connection.vendor == "postgresql":
        # One statement of arrays bound server-side: the SQL text stays short (retail/dbcopy.py).
        key_names = [meta.get_field(name).attname for name in keys]
        sum_names = [meta.get_field(name).attname for name in sums]
        touch = "updated_at" if any(f.name == "updated_at" for f in meta.concrete_fields) else ""
        now = [timezone.now()] if touch else []
        ordered = sorted(rows.items(), key=lambda item: tuple(str(k) for k in item[0]))
        statement = upsert_add_statement(
            model,
            key_names,
            sum_names,
            [(*key, *(increments[name] for name in sums), *now) for key, increments in ordered],
            touch=touch,
            conflict_where=conflict_where,
        )
        if into is not None:
            into.append(statement)
        else:
            pg_upserts_add([statement])
        return
    table = connection.ops.quote_name(meta.db_table)
    key_fields = [meta.get_field(name) for name in keys]
    sum_fields = [meta.get_field(name) for name in sums]
    has_updated_at = any(f.name == "updated_at" for f in meta.concrete_fields)
    columns = [f.column for f in key_fields + sum_fields] + (["updated_at"] if has_updated_at else [])
    quoted = [connection.ops.quote_name(c) for c in columns]
    sets = [f"{connection.ops.quote_name(f.column)} = {table}.{connection.ops.quote_name(f.column)} "
            f"+ EXCLUDED.{connection.ops.quote_name(f.column)}" for f in sum_fields]  # fmt: skip
    if has_updated_at:
        sets.append('"updated_at" = EXCLUDED."updated_at"')
    conflict = "(" + ", ".join(connection.ops.quote_name(f.column) for f in key_fields) + ")"
    if conflict_where:
        conflict += f" WHERE {conflict_where}"
    now = timezone.now()
    items = sorted(rows.items(), key=lambda item: tuple(str(k) for k in item[0]))
    placeholder = "(" + ", ".join(["%s"] * len(columns)) + ")"
    for start in range(0, len(items), 300):
        chunk = items[start : start + 300]
        params: list = []
        for key, increments in chunk:
            params += [f.get_db_prep_save(v, connection) for f, v in zip(key_fields, key, strict=True)]
            params += [f.get_db_prep_save(increments[f.name], connection) for f in sum_fields]
            if has_updated_at:
                params.append(meta.get_field("updated_at").get_db_prep_save(now, connection))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(quoted)}) VALUES {', '.join([placeholder] * len(chunk))} "
                f"ON CONFLICT {conflict} DO UPDATE SET {', '.join(sets)}",
                params,
            )


def _plus(target: dict, increments: dict) -> None:
    for name, value in increments.items():
        target[name] = target.get(name, 0) + value


def _claim(sales: list[Sale]) -> list[Sale]:
    """Mark ``sales`` as counted; returns those not counted before (the "once per sale" rule)."""
    unique = list({sale.id: sale for sale in sales}.values())
    now = timezone.now()
    if connection.vendor == "postgresql":
        # One statement, no savepoint: the rows it did insert are the sales not counted before
        # (a concurrent claim of the same sale waits for that transaction, then inserts nothing).
        with connection.wrap_database_errors, pg_cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {connection.ops.quote_name(RolledUpSale._meta.db_table)} (sale_id, day, recorded_at) "
                "SELECT * FROM unnest(%s::uuid[], %s::date[], %s::timestamptz[]) "
                "ON CONFLICT (sale_id) DO NOTHING RETURNING sale_id",
                [
                    pg_array([s.id for s in unique]),
                    pg_array([s._rollup_day for s in unique]),
                    pg_array([now] * len(unique)),
                ],
            )
            claimed = {row[0] for row in cursor.fetchall()}
        return [sale for sale in unique if sale.id in claimed]
    # Mostly none was counted (the sales were just applied): claim them all in one insert; the
    # unique key refuses it whole if any was, and then the ones not counted are looked up.
    for look_up in (False, True):
        done = ids_existing(RolledUpSale, [s.id for s in unique]) if look_up else set()
        fresh = [sale for sale in unique if sale.id not in done]
        try:
            with transaction.atomic():
                rows_insert(
                    RolledUpSale,
                    ("sale_id", "day", "recorded_at"),
                    ((s.id, s._rollup_day, now) for s in fresh),
                )
            return fresh
        except IntegrityError:
            continue  # counted before, or by another transaction meanwhile
    # Still refused: another transaction counted one of them meanwhile: claim them one by one.
    claimed = []
    for sale in fresh:
        try:
            with transaction.atomic():
                RolledUpSale.objects.create(sale_id=sale.id, day=sale._rollup_day)
        except IntegrityError:
            continue
        claimed.append(sale)
    return claimed


def sales_rollup_record_many(
    *,
    sales: list[Sale],
    channel: str = Channel.STORE,
    lines_of: dict | None = None,
    tenders_of: dict | None = None,
    shared_later: list | None = None,
) -> set:
    """Count completed sales and returns into the daily figures, each sale once; returns the ids counted.

    Set-based: the increments of all the sales are added up per (day, store, ...) row first, then
    each rollup table gets one upsert. Call it inside the transaction that applies the sales.
    Returns count negatively: a day's ``total`` is what customers paid net of refunds.
    ``lines_of`` and ``tenders_of`` may give, per sale id, what the caller has just written (lines not
    voided as (product_id, quantity, line_total), tenders approved as (kind, amount, change)); the
    other sales' are read. On PostgreSQL, ``shared_later`` (a list) collects the upserts of the
    chain-wide rows, which every store's pushes share, for the caller to send with
    ``retail.dbcopy.pg_upserts_add`` in the last moments of its transaction.
    """
    completed = [sale for sale in sales if sale.status == SaleStatus.COMPLETED]
    if not completed:
        return set()
    zones: dict = {}
    for sale in completed:
        if sale.store_id not in zones:
            zones[sale.store_id] = ZoneInfo(sale.store.time_zone or "UTC")
        sale._rollup_day = (sale.completed_at or sale.created_at).astimezone(zones[sale.store_id]).date()
    # No savepoint of its own inside the caller's transaction (a round trip each way): an error here
    # rolls the caller's whole transaction back, which is what the caller wants of its figures.
    with transaction.atomic(savepoint=False):
        counted = _claim(completed)
        if not counted:
            return set()
        ids = [sale.id for sale in counted]
        # Plain tuples, not model instances: a push batch holds hundreds of sales.
        given = set(lines_of or ()) & set(tenders_of or ())
        lines_of = defaultdict(list, {sale_id: lines_of[sale_id] for sale_id in given})
        tenders_of = defaultdict(list, {sale_id: tenders_of[sale_id] for sale_id in given})
        unread = [sale_id for sale_id in ids if sale_id not in given]
        if unread:
            for sale_id, *line in SaleLine.objects.filter(sale_id__in=unread, voided=False).values_list(
                "sale_id", "product_id", "quantity", "line_total"
            ):
                lines_of[sale_id].append(line)
            for sale_id, *tender in Tender.objects.filter(sale_id__in=unread, approved=True).values_list(
                "sale_id", "kind", "amount", "change"
            ):
                tenders_of[sale_id].append(tender)
        stores: dict = defaultdict(dict)
        tenders: dict = defaultdict(dict)
        products: dict = defaultdict(dict)
        chain: dict = defaultdict(dict)
        monthly: dict = defaultdict(dict)
        for sale in counted:
            day, is_return = sale._rollup_day, sale.kind == SaleKind.RETURN
            sign = -1 if is_return else 1
            lines = lines_of[sale.id]
            member = sale.member_id is not None
            total = sign * abs(sale.total)
            _plus(
                stores[(day, sale.store_id, channel)],
                {
                    "sales_count": 0 if is_return else 1,
                    "returns_count": 1 if is_return else 0,
                    "total": total,
                    "tax_total": sign * abs(sale.tax_total),
                    "discount_total": sign * abs(sale.discount_total),
                    "lines_count": 0 if is_return else len(lines),
                    "units": sign * sum((abs(quantity) for _product, quantity, _total in lines), Decimal(0)),
                    "member_sales_count": 1 if member and not is_return else 0,
                    "member_total": total if member else Decimal(0),
                    "points_earned": sale.points_earned,
                },
            )
            for kind, amount, change in tenders_of[sale.id]:
                _plus(
                    tenders[(day, sale.store_id, kind)], {"count": 1, "amount": sign * abs(amount - change)}
                )
            for product_id, quantity, line_total in lines:
                figures = {"quantity": sign * abs(quantity), "total": sign * abs(line_total)}
                _plus(products[(day, sale.store_id, product_id)], figures)
                _plus(chain[(day, product_id)], figures)
                _plus(monthly[(day.replace(day=1), product_id)], figures)
        # Five tables, one statement on PostgreSQL (or the store's three, and the chain's two
        # kept for ``shared_later``): each table's rows in key order, the tables as listed
        # (PostgreSQL runs unreferenced data-modifying WITH queries to completion in turn, so
        # concurrent batches lock the shared chain rows in one order).
        upserts: list = []
        shared = upserts if shared_later is None else shared_later
        _upsert_add(DailyStoreSales, ("day", "store", "channel"), stores, into=upserts)
        _upsert_add(DailyTender, ("day", "store", "kind"), tenders, into=upserts)
        _upsert_add(DailyProductSales, ("day", "store", "product"), products, into=upserts)
        _upsert_add(DailyChainProductSales, ("day", "product"), chain, into=shared)
        _upsert_add(MonthlyChainProductSales, ("month", "product"), monthly, into=shared)
        pg_upserts_add(upserts)
        for day, store_id, _channel in stores:
            live_notify(store_id=store_id, day=day)
    return set(ids)


def sales_rollup_record(*, sale: Sale, channel: str = Channel.STORE) -> bool:
    """Count a completed sale or return into the daily figures of its store; once per sale.

    Call it inside the transaction that applies the sale at the cloud: the figures then commit or
    roll back with the sale. A second call for the same sale changes nothing and returns False.
    """
    return sale.id in sales_rollup_record_many(sales=[sale], channel=channel)


def online_orders_rollup_record(*, orders: list[Order]) -> set:
    """Count online orders handed over as sales of the online channel, each once; returns the ids counted.

    Call it in the transaction that moves the orders to ``collected`` or ``delivered``: which orders
    are online sales is ``cloud.api.orders``' rule (docs/head-office.md, "Online sales"); this adds
    what it is given. The day is the handover's (the order's ``updated_at``): a pickup order's in its
    store's time zone, counted at that store; a delivery's in the deployment's ``TIME_ZONE``, in the
    row without a store. An order adds one sale, its lines, units and totals (tax included; an online
    order has no discounts, earns no points here) to ``DailyStoreSales`` and its products to the
    product rollups (a store's only for a pickup). No ``DailyTender``: nothing was paid at a till.
    """
    if not orders:
        return set()
    zones: dict = {}
    for order in orders:
        if order.store_id is None:
            zone = timezone.get_default_timezone()
        else:
            if order.store_id not in zones:
                zones[order.store_id] = ZoneInfo(order.store.time_zone or "UTC")
            zone = zones[order.store_id]
        order._rollup_day = order.updated_at.astimezone(zone).date()
    with transaction.atomic():
        counted = _claim_orders(orders)
        if not counted:
            return set()
        ids = [order.id for order in counted]
        lines_of: dict = defaultdict(list)
        for line in OrderLine.objects.filter(order_id__in=ids).only(
            "order_id", "product_id", "quantity", "line_total"
        ):
            lines_of[line.order_id].append(line)
        stores: dict = defaultdict(dict)
        deliveries: dict = defaultdict(dict)
        products: dict = defaultdict(dict)
        chain: dict = defaultdict(dict)
        monthly: dict = defaultdict(dict)
        for order in counted:
            day, lines = order._rollup_day, lines_of[order.id]
            member = order.member_id is not None
            figures = {
                "sales_count": 1,
                "returns_count": 0,
                "total": order.total,
                "tax_total": order.tax_total,
                "discount_total": Decimal(0),
                "lines_count": len(lines),
                "units": sum((line.quantity for line in lines), Decimal(0)),
                "member_sales_count": 1 if member else 0,
                "member_total": order.total if member else Decimal(0),
                "points_earned": 0,
            }
            if order.store_id is None:
                _plus(deliveries[(day, Channel.ONLINE)], figures)
            else:
                _plus(stores[(day, order.store_id, Channel.ONLINE)], figures)
            for line in lines:
                sold = {"quantity": line.quantity, "total": line.line_total}
                if order.store_id is not None:
                    _plus(products[(day, order.store_id, line.product_id)], sold)
                _plus(chain[(day, line.product_id)], sold)
                _plus(monthly[(day.replace(day=1), line.product_id)], sold)
        _upsert_add(DailyStoreSales, ("day", "store", "channel"), stores)
        _upsert_add(DailyStoreSales, ("day", "channel"), deliveries, conflict_where="store_id IS NULL")
        _upsert_add(DailyProductSales, ("day", "store", "product"), products)
        _upsert_add(DailyChainProductSales, ("day", "product"), chain)
        _upsert_add(MonthlyChainProductSales, ("month", "product"), monthly)
        for day, store_id, _channel in stores:
            live_notify(store_id=store_id, day=day)
        for day, _channel in deliveries:
            live_notify(store_id="", day=day)  # chain-wide figures only: no store's dashboard shows it
    return set(ids)


def _claim_orders(orders: list[Order]) -> list[Order]:
    """Mark ``orders`` as counted; returns those not counted before (the "once per order" rule).

    The orders are locked by the caller (a move to a closed status happens once), so no concurrent
    claim races this one; a claim already there (the order counted before) is skipped."""
    unique = list({order.id: order for order in orders}.values())
    done = set(
        RolledUpOrder.objects.filter(order_id__in=[o.id for o in unique]).values_list("order_id", flat=True)
    )
    fresh = [order for order in unique if order.id not in done]
    RolledUpOrder.objects.bulk_create([RolledUpOrder(order_id=o.id, day=o._rollup_day) for o in fresh])
    return fresh
