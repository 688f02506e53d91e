"""Set-based applies of a store's facts: the sales, stock movements and points that make up most of
its traffic, a few statements for a whole run of them instead of a few per event.

The rules are those of the one-by-one appliers (``appliers.py``), and so are the rows written: a
sale with its lines, discounts, tax lines and tenders, a movement, a ledger entry, each inserted
once by id; a stock level moves by the sum of its movements, a balance (the survivor's, for a
merged card) by the sum of its points. These commute, so a run is applied as a set: the order of
its events only matters to the receiver's hooks, which get what the order gives (see
``ApplyHooks.points_balances_moved``).

This path judges only what it is sure of. Every event that is unusual in any way (a payload of an
older schema, a malformed or missing field, a reference this node does not hold, a naive time, an
id also carried by such an event) is left to the caller, who applies it with ``event_apply`` in
``seq`` order after the run and so gets the exact outcome and quarantine reason of the one-by-one
path. A unique conflict in the set-based inserts rolls the run's savepoint back and leaves the
whole run to the careful path.

Balances can wait (``ApplyContext.balances_later``): a cloud ingesting many stores' batches at once
adds the points of a whole batch to the members' balances in one statement at the end of its
transaction (``balances_flush``), so the member rows every store shares are locked for the last
moments of a transaction instead of the whole of it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from retail.catalog.models import Price, Product
from retail.dbcopy import ids_existing, ids_found, pg_upsert_add, rows_insert
from retail.members.models import Member, PointsEntry, PointsKind
from retail.outbox import hlc as hlc_clock
from retail.replication.wire import CLOUD_ORIGIN, Envelope
from retail.sales.models import Sale, SaleDiscount, SaleKind, SaleLine, SaleStatus, SaleTaxLine, Tender
from retail.shifts.models import Shift
from retail.staff.models import User
from retail.stock.models import MovementKind, StockLevel, StockMovement
from retail.stores.models import Store, Terminal

# The types this path applies (each at schema 1; another version goes the careful way).
FACT_TYPES = frozenset({"sale.completed", "stock.moved", "points.posted"})

_MOVEMENT_SIGN = {
    "sale": -1,
    "transfer_out": -1,
    "write_off": -1,
    "return": 1,
    "receipt": 1,
    "transfer_in": 1,
}
_POINTS_SIGN = {PointsKind.EARN: 1, PointsKind.REDEEM: -1, PointsKind.EXPIRE: -1}
_MOVEMENT_KINDS = frozenset(MovementKind.values)
_POINTS_KINDS = frozenset(PointsKind.values)
_SALE_KINDS = frozenset(SaleKind.values)


class _Unusual(Exception):
    """This path will not judge the event: the careful one will."""


def _uuid(raw) -> uuid.UUID:
    return uuid.UUID(str(raw))


def _uuid_or_none(raw) -> uuid.UUID | None:
    return uuid.UUID(str(raw)) if raw else None


_REFS: dict = {}


def _ref(raw) -> uuid.UUID:
    """A reference to a row (store, terminal, cashier, member, product): the same few come again and
    again in a batch, so each text is parsed once."""
    value = _REFS.get(raw)
    if value is None:
        if len(_REFS) > 50_000:
            _REFS.clear()
        value = _REFS[raw] = uuid.UUID(str(raw))
    return value


def _ref_or_none(raw) -> uuid.UUID | None:
    return _ref(raw) if raw else None


def _dec(raw) -> Decimal:
    if not isinstance(raw, str):
        raise _Unusual
    value = Decimal(raw)
    if not value.is_finite():
        raise _Unusual
    return value


def _dec_or_none(raw) -> Decimal | None:
    return None if raw is None else _dec(raw)


def _dt(raw) -> datetime:
    value = parse_datetime(str(raw)) if raw else None
    if value is None or value.tzinfo is None:
        raise _Unusual
    return value


def _dt_or_none(raw) -> datetime | None:
    return _dt(raw) if raw else None


def _text(raw, limit: int) -> str:
    if not isinstance(raw, str) or len(raw) > limit:
        raise _Unusual
    return raw


def _key(raw):
    """The id an event's payload names, as this path compares ids."""
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        return str(raw)


@dataclass
class _Sale:
    env: Envelope
    sale: Sale
    row: tuple
    lines: list[tuple]
    discounts: list[tuple]
    tax_lines: list[tuple]
    tenders: list[tuple]


def _sale_parse(env: Envelope, ctx) -> _Sale:
    p = env.payload
    sale_id = _uuid(p["id"])
    store_id = _ref(p["store_id"])
    if ctx.origin_store_id is not None and store_id != ctx.origin_store_id:
        raise _Unusual
    kind = p.get("kind", SaleKind.SALE)
    if kind not in _SALE_KINDS:
        raise _Unusual
    receipt = p.get("receipt_number")
    if receipt is not None and (not isinstance(receipt, str) or len(receipt) > 32):
        raise _Unusual
    completed_at = _dt(p["completed_at"])
    row = (
        sale_id,
        kind,
        SaleStatus.COMPLETED,
        store_id,
        _ref(p["terminal_id"]),
        _ref_or_none(p.get("shift_id")),
        _ref(p["cashier_id"]),
        _ref_or_none(p.get("member_id")),
        _uuid_or_none(p.get("original_sale_id")),
        receipt,
        _dec(p["subtotal"]),
        _dec(p["discount_total"]),
        _dec(p["tax_total"]),
        _dec(p["total"]),
        _dec(p["cash_rounding"]),
        int(p.get("points_earned") or 0),
        _dt(p["created_at"]),
        completed_at,
    )
    sale = Sale(*row)  # positional, in the order of _SALE_FIELDS: Django's fast path
    lines, positions = [], set()
    for line in p.get("lines") or []:
        position = int(line["position"])
        if position in positions or position < 0:
            raise _Unusual
        positions.add(position)
        lines.append(
            (
                _uuid(line["id"]),
                sale_id,
                position,
                _ref(line["product_id"]),
                _text(line.get("sku", ""), 32),
                _text(line.get("description", ""), 200),
                _text(line.get("barcode") or "", 64),
                _dec(line["quantity"]),
                _dec(line["unit_price"]),
                _dec(line["line_discount"]),
                _dec(line["sale_discount_share"]),
                _dec(line["line_total"]),
                _text(line["tax_class"], 16),
                _dec(line["tax_rate"]),
                bool(line.get("voided", False)),
                _uuid_or_none(line.get("original_line_id")),
                bool(line.get("restock", True)),
                None,  # price_overridden_by_id
                "",  # discount_kind
                None,  # discount_value
            )
        )
    discounts = [
        (sale_id, _text(d["kind"], 8), _dec(d["value"]), _dec(d["amount"]), _text(d.get("reason", ""), 200))
        for d in p.get("discounts") or []
    ]
    tax_lines = [
        (sale_id, _text(t["tax_class"], 16), _dec(t["rate"]), _dec(t["taxable"]), _dec(t["tax"]))
        for t in p.get("tax_lines") or []
    ]
    tenders = [
        (
            _uuid(t["id"]),
            sale_id,
            _text(t["kind"], 8),
            _dec(t["amount"]),
            _dec_or_none(t.get("tendered")),
            _dec_or_none(t.get("change")) or Decimal("0"),
            _text(t.get("reference") or "", 64),
            bool(t.get("approved", True)),
            int(t.get("points") or 0),
            _dt_or_none(t.get("created_at")) or completed_at,
        )
        for t in p.get("tenders") or []
    ]
    return _Sale(env, sale, row, lines, discounts, tax_lines, tenders)


_SALE_FIELDS = [f.attname for f in Sale._meta.concrete_fields]
_LINE_FIELDS = ["id", "sale_id", "position", "product_id", "sku", "description", "barcode", "quantity",
                "unit_price", "line_discount", "sale_discount_share", "line_total", "tax_class", "tax_rate",
                "voided", "original_line_id", "restock", "price_overridden_by_id", "discount_kind",
                "discount_value"]  # fmt: skip
_DISCOUNT_FIELDS = ["sale_id", "kind", "value", "amount", "reason"]
_TAX_FIELDS = ["sale_id", "tax_class", "rate", "taxable", "tax"]
_TENDER_FIELDS = ["id", "sale_id", "kind", "amount", "tendered", "change", "reference", "approved", "points",
                  "created_at"]  # fmt: skip
_MOVEMENT_FIELDS = [
    "id",
    "store_id",
    "product_id",
    "kind",
    "quantity",
    "reference",
    "note",
    "origin",
    "created_at",
]
_ENTRY_FIELDS = ["id", "member_id", "kind", "points", "sale_id", "reason", "origin", "created_at"]


def _movement_parse(env: Envelope, ctx) -> tuple:
    p = env.payload
    movement_id, store_id = _uuid(p["id"]), _ref(p["store_id"])
    kind, quantity = p["kind"], _dec(p["quantity"])
    sign = _MOVEMENT_SIGN.get(kind)
    if kind not in _MOVEMENT_KINDS or (sign is not None and quantity * sign < 0):
        raise _Unusual
    if ctx.origin_store_id is not None and store_id != ctx.origin_store_id:
        raise _Unusual
    created_at = _dt_or_none(p.get("created_at")) or datetime.fromtimestamp(
        hlc_clock.unpack(env.hlc)[0] / 1000, tz=UTC
    )
    return (
        movement_id,
        store_id,
        _ref(p["product_id"]),
        kind,
        quantity,
        _text(p.get("reference") or "", 64),
        _text(p.get("note") or "", 200),
        env.origin,
        created_at,
    )


def _entry_parse(env: Envelope, ctx) -> tuple:
    p = env.payload
    points, kind = p["points"], p["kind"]
    if not isinstance(points, int) or isinstance(points, bool) or kind not in _POINTS_KINDS:
        raise _Unusual
    sign = _POINTS_SIGN.get(kind)
    if sign is not None and points * sign < 0:
        raise _Unusual
    return (
        _uuid(p["id"]),
        _ref(p["member_id"]),
        kind,
        points,
        _uuid_or_none(p.get("sale_id")),
        _text(p.get("reason") or "", 200),
        env.origin,
        _dt_or_none(p.get("created_at")) or timezone.now(),
    )


def _needs(env: Envelope, rows: set, members: set) -> None:
    """Add what ``env`` reads when applied one by one (whatever its shape) to ``rows`` and ``members``."""
    p = env.payload
    if env.type == "sale.completed":
        rows.add(_key(p.get("original_sale_id")))
        lines = p.get("lines")
        for line in lines if isinstance(lines, list) else []:
            if isinstance(line, dict):
                rows.add(_key(line.get("original_line_id")))
    elif env.type == "points.posted":
        members.add(_key(p.get("member_id")))


_PARSERS = {"sale.completed": _sale_parse, "stock.moved": _movement_parse, "points.posted": _entry_parse}


_existing = ids_existing


class _Duplicate(Exception):
    """A set-based insert met a row that exists (its savepoint is rolled back)."""


_PARSE_ERRORS = (_Unusual, KeyError, TypeError, ValueError, AttributeError, InvalidOperation, OverflowError)
_UNUSUAL = object()  # a parse ahead's mark of an event this path leaves to the careful one


def _fact_parse(env: Envelope, ctx) -> Any:
    """The rows of one fact, or ``_UNUSUAL`` for an event this path leaves to the careful one."""
    if env.schema != 1 or env.type not in _PARSERS:
        return _UNUSUAL
    try:
        return _PARSERS[env.type](env, ctx)
    except _PARSE_ERRORS:
        return _UNUSUAL


def facts_parse(envs: list[Envelope], ctx) -> dict[int, Any]:
    """Parse the facts of a batch ahead, outside any transaction (the receiver then holds the
    sender's lock for less time); ``facts_apply_bulk(..., parsed=)`` takes the result. By ``seq``:
    the parsed row, or a mark that the event is unusual. Reads nothing from the database: what an
    event names is looked up when it is applied."""
    return {env.seq: _fact_parse(env, ctx) for env in envs if env.type in FACT_TYPES}


def facts_apply_bulk(
    envs: list[Envelope], ctx, *, parsed: dict[int, Any] | None = None
) -> tuple[list[Envelope], list[Envelope]]:
    """Apply a run of ``FACT_TYPES`` events set-based. Returns (applied, left), each in ``seq`` order:
    ``left`` are the events this path will not judge, for the caller to apply one by one (after
    the run) with ``event_apply``. Call it inside the caller's transaction.

    A fact recorded before under another seq is rare (the ack already drops resent seqs), so the
    first attempt inserts without looking the run's ids up, and the unique keys tell: on a conflict
    its savepoint is rolled back and the run is applied again knowing which facts exist; a conflict
    then too (another unique key) leaves the whole run to the careful path."""
    for known in (False, True):
        try:
            return _facts_apply(envs, ctx, look_up=known, ahead=parsed or {})
        except _Duplicate:
            continue
    return [], list(envs)  # let the careful path sort it out event by event


def _facts_apply(
    envs: list[Envelope], ctx, *, look_up: bool, ahead: dict[int, Any]
) -> tuple[list[Envelope], list[Envelope]]:
    parsed: list[tuple[Envelope, Any]] = []
    left_ids: set = set()
    # What the events left to the careful path may read: the sales and lines a return names, the
    # members whose balance moves. An event of the run that writes one goes the careful way too, so
    # the careful path applies them all in seq order and sees exactly what it would have one by one.
    wanted: set = set()
    wanted_members: set = set()
    left: list[Envelope] = []
    for env in envs:
        row = ahead.get(env.seq)
        if row is None:
            row = _fact_parse(env, ctx)
        if row is not _UNUSUAL:
            parsed.append((env, row))
        else:
            left.append(env)
            if isinstance(env.payload, dict):
                left_ids.add(_key(env.payload.get("id")))
                _needs(env, wanted, wanted_members)
    sales = [row for env, row in parsed if env.type == "sale.completed"]
    movements = [(env, row) for env, row in parsed if env.type == "stock.moved"]
    entries = [(env, row) for env, row in parsed if env.type == "points.posted"]

    # What this node already holds, and what the rows name: one query for every table.
    member_ids = {row[1] for _env, row in entries} | {s.sale.member_id for s in sales} - {None}
    member_ids |= {m for m in wanted_members if isinstance(m, uuid.UUID)}
    found = ids_found(
        (Sale, [s.sale.id for s in sales] if look_up else (), ""),
        (StockMovement, [row[0] for _env, row in movements] if look_up else (), ""),
        (PointsEntry, [row[0] for _env, row in entries] if look_up else (), ""),
        (Member, member_ids, "merged_into_id"),
        (Store, {s.sale.store_id for s in sales} | {row[1] for _env, row in movements}, ""),
        (Product, {line[3] for s in sales for line in s.lines} | {row[2] for _env, row in movements}, ""),
        (Terminal, {s.sale.terminal_id for s in sales}, ""),
        (User, {s.sale.cashier_id for s in sales}, ""),
        (Shift, {s.sale.shift_id for s in sales} - {None}, ""),
        (Sale, {s.sale.original_sale_id for s in sales} - {None}, ""),
        (SaleLine, {line[15] for s in sales for line in s.lines if line[15] is not None}, ""),
    )
    members = found[3]
    done_sales, done_movements, done_entries, _, stores, products, terminals, cashiers, shifts, originals, original_lines = (
        set(ids) for ids in found
    )  # fmt: skip

    take_sales, take_movements, take_entries, applied_ids = [], [], [], set()
    seen_sales, seen_movements, seen_entries = set(done_sales), set(done_movements), set(done_entries)

    careful_survivors = {members.get(m) or m for m in wanted_members}

    def careful(env: Envelope, key) -> None:
        left.append(env)
        left_ids.add(key)
        needs_members: set = set()
        _needs(env, wanted, needs_members)
        careful_survivors.update(members.get(m) or m for m in needs_members)

    for env, row in parsed:
        key = row.sale.id if env.type == "sale.completed" else row[0]
        if key in left_ids or key in wanted:
            careful(env, key)  # an event with this id goes the careful way, or reads this row: in order
        elif env.type == "sale.completed":
            sale = row.sale
            if any(line[0] in wanted for line in row.lines):
                careful(env, key)
                continue
            if sale.id in seen_sales:
                applied_ids.add(env.seq)  # already recorded: applying it again changes nothing
                continue
            if (
                sale.store_id not in stores
                or sale.terminal_id not in terminals
                or sale.cashier_id not in cashiers
                or (sale.shift_id is not None and sale.shift_id not in shifts)
                or (sale.member_id is not None and sale.member_id not in members)
                or (sale.original_sale_id is not None and sale.original_sale_id not in originals)
                or any(line[3] not in products for line in row.lines)
                or any(line[15] is not None and line[15] not in original_lines for line in row.lines)
            ):
                careful(env, key)
                continue
            seen_sales.add(sale.id)
            originals.add(sale.id)  # a return later in the run may name it
            original_lines.update(line[0] for line in row.lines)
            take_sales.append(row)
            applied_ids.add(env.seq)
        elif env.type == "stock.moved":
            if row[0] in seen_movements:
                applied_ids.add(env.seq)
                continue
            if row[1] not in stores or row[2] not in products:
                careful(env, key)
                continue
            seen_movements.add(row[0])
            take_movements.append((env, row))
            applied_ids.add(env.seq)
        else:
            if row[0] in seen_entries:
                applied_ids.add(env.seq)
                continue
            if row[1] not in members or (members[row[1]] or row[1]) in careful_survivors:
                careful(env, key)
                continue
            seen_entries.add(row[0])
            take_entries.append((env, row))
            applied_ids.add(env.seq)

    deltas: dict[tuple, Decimal] = {}
    last: dict[tuple, Envelope] = {}
    for env, row in take_movements:
        key, quantity = (row[1], row[2]), row[4]
        deltas[key] = deltas.get(key, Decimal(0)) + quantity
        if quantity < 0 or key not in last:
            last[key] = env
    points: dict = {}
    for _env, row in take_entries:
        survivor = members[row[1]] or row[1]
        points[survivor] = points.get(survivor, 0) + row[3]
    try:
        with transaction.atomic():
            rows_insert(Sale, _SALE_FIELDS, (s.row for s in take_sales))
            rows_insert(SaleLine, _LINE_FIELDS, (line for s in take_sales for line in s.lines))
            rows_insert(SaleDiscount, _DISCOUNT_FIELDS, (d for s in take_sales for d in s.discounts))
            rows_insert(SaleTaxLine, _TAX_FIELDS, (t for s in take_sales for t in s.tax_lines))
            rows_insert(Tender, _TENDER_FIELDS, (t for s in take_sales for t in s.tenders))
            rows_insert(StockMovement, _MOVEMENT_FIELDS, (row for _env, row in take_movements))
            rows_insert(PointsEntry, _ENTRY_FIELDS, (row for _env, row in take_entries))
            levels = _levels_add(deltas) if deltas else {}
            if points and ctx.balances_later is None:
                _balances_add(points)
    except IntegrityError as exc:
        raise _Duplicate from exc

    # The receiver's bookkeeping, in the caller's transaction.
    for s in take_sales:
        ctx.hooks.sale_applied(
            sale=s.sale,
            env=s.env,
            lines=[(line[3], line[7], line[11], line[14]) for line in s.lines],
            tenders=[(t[2], t[3], t[5], t[7]) for t in s.tenders],
        )
    if last:
        ctx.hooks.stock_levels_moved(moved=last, levels=levels)
    if take_entries:
        entries_posted = [(row[1], members[row[1]] or row[1], row[3], env) for env, row in take_entries]
        if ctx.balances_later is not None:
            ctx.balances_later.keep(points, entries_posted)
        else:
            _balances_report(ctx, points, entries_posted)
    left.sort(key=lambda env: env.seq)
    return [env for env in envs if env.seq in applied_ids], left


@dataclass
class BalancesLater:
    """Points the set-based path applied whose balances wait for ``balances_flush``."""

    points: dict = field(default_factory=dict)  # survivor id -> points to add
    posted: list = field(default_factory=list)  # (member_id, survivor_id, points, env), in seq order

    def keep(self, points: dict, posted: list) -> None:
        for survivor, total in points.items():
            self.points[survivor] = self.points.get(survivor, 0) + total
        self.posted.extend(posted)


def balances_flush(ctx) -> None:
    """Add the points ``ctx.balances_later`` kept to their balances (one statement, members in id
    order) and tell the hooks, as the set-based path does when balances do not wait. Call it before
    anything else of the transaction reads or moves a balance, and before it ends."""
    later = ctx.balances_later
    if later is None or not later.points:
        return
    ctx.balances_later = BalancesLater()
    if connection.vendor == "postgresql":
        # In id order, so two pushes' flushes never each hold a row the other waits for (the
        # UPDATE's join takes rows in the order its plan gives). Not FOR UPDATE: that would also
        # stop other pushes' inserts naming these members (their foreign keys' KEY SHARE locks).
        ids = Member.objects.filter(pk__in=later.points).order_by("id").select_for_update(no_key=True)
        list(ids.values_list("id", flat=True))
    _balances_add(later.points)
    _balances_report(ctx, later.points, later.posted)


def _balances_report(ctx, points: dict, posted: list) -> None:
    """Tell the hooks each entry's balance right after it (``ApplyHooks.points_balances_moved``),
    from the balances after all of ``points`` were added."""
    balances = dict(Member.objects.filter(pk__in=points).values_list("pk", "points_balance"))
    running = {survivor: balances[survivor] - total for survivor, total in points.items()}
    report = []
    for member_id, survivor, amount, env in posted:
        running[survivor] += amount
        report.append((member_id, survivor, running[survivor], env))
    ctx.hooks.points_balances_moved(posted=report)


def _levels_add(deltas: dict[tuple, Decimal]) -> dict[tuple, Decimal] | None:
    """Add each delta to its (store, product) level, creating missing levels at 0; keys in sorted
    order, so concurrent writers lock levels in one order. Returns the levels after, on PostgreSQL
    (one upsert that returns them), else None."""
    items = sorted(deltas.items(), key=lambda item: (str(item[0][0]), str(item[0][1])))
    now = timezone.now()
    if connection.vendor == "postgresql":
        written = pg_upsert_add(
            StockLevel,
            ("store_id", "product_id"),
            ("on_hand",),
            [(store_id, product_id, delta, now) for (store_id, product_id), delta in items],
            touch="updated_at",
            returning=("store_id", "product_id", "on_hand"),
        )
        return {(store_id, product_id): on_hand for store_id, product_id, on_hand in written}
    StockLevel.objects.bulk_create(
        [StockLevel(store_id=s, product_id=p, on_hand=0) for s, p in deltas], ignore_conflicts=True
    )
    table = connection.ops.quote_name(StockLevel._meta.db_table)
    for start in range(0, len(items), 500):
        chunk = items[start : start + 500]
        params: list = []
        for (store_id, product_id), delta in chunk:
            params += [store_id.hex, product_id.hex, str(delta)]
        values = ", ".join(["(%s, %s, %s)"] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET on_hand = {table}.on_hand + v.d, updated_at = %s "
                f"FROM (SELECT column1 AS s, column2 AS p, column3 AS d FROM (VALUES {values}) AS x) AS v "
                f"WHERE {table}.store_id = v.s AND {table}.product_id = v.p",
                [now, *params],
            )
    return None


def _balances_add(points: dict) -> None:
    """Add each member's points to its balance in one statement (the caller resolved survivors)."""
    table = connection.ops.quote_name(Member._meta.db_table)
    items = sorted(points.items(), key=lambda item: str(item[0]))
    pg = connection.vendor == "postgresql"
    for start in range(0, len(items), 500):
        chunk = items[start : start + 500]
        one = "(%s::uuid, %s::integer)" if pg else "(%s, %s)"
        params: list = []
        for member_id, delta in chunk:
            params += [member_id if pg else member_id.hex, delta]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET points_balance = {table}.points_balance + v.d "
                f"FROM (SELECT column1 AS m, column2 AS d FROM (VALUES {', '.join([one] * len(chunk))}) AS x) AS v "
                f"WHERE {table}.id = v.m",
                params,
            )


# ---------------------------------------------------------------- head office's prices, at a store


def prices_set_bulk(envs: list[Envelope], ctx) -> tuple[list[Envelope], list[Envelope]]:
    """Apply a run of head office's ``price.set`` set-based, as ``_price_set`` one by one would: each
    price upserted by id, any other price of the same (product, store, moment) deleted. A catalog
    change of thousands of prices reaches every store as such a run.

    Returns (applied, left): from the first event this path will not judge on, the rest of the run
    is left, in order, to ``event_apply``, so it sees exactly what the one-by-one path would have.
    """
    parsed = []
    for env in envs:
        try:
            if env.schema != 1 or env.type != "price.set" or env.origin != CLOUD_ORIGIN:
                raise _Unusual
            p = env.payload
            amount = _dec(p["amount"])
            if amount < 0:
                raise _Unusual
            key = (_uuid(p["product_id"]), _uuid_or_none(p.get("store_id")), _dt(p["effective_from"]))
            parsed.append((env, _uuid(p["id"]), key, amount))
        except (_Unusual, KeyError, TypeError, ValueError, AttributeError, InvalidOperation, OverflowError):
            break
    products = _existing(Product, {key[0] for _env, _id, key, _amount in parsed})
    stores = _existing(Store, {key[1] for _env, _id, key, _amount in parsed} - {None})
    for n, (_env, _id, key, _amount) in enumerate(parsed):
        if key[0] not in products or (key[1] is not None and key[1] not in stores):
            parsed = parsed[:n]
            break
    if not parsed:
        return [], list(envs)

    # The run, event by event, in Python: which price holds each moment at the end, which went.
    final: dict = {}  # price id -> (key, amount)
    holder: dict = {}  # key -> price id
    gone: set = set()
    for _env, price_id, key, amount in parsed:
        other = holder.get(key)
        if other is not None and other != price_id:
            final.pop(other, None)
            gone.add(other)
        if price_id in final and final[price_id][0] != key:
            holder.pop(final[price_id][0], None)
        final[price_id] = (key, amount)
        holder[key] = price_id
        gone.discard(price_id)
    keys = {key for _env, _id, key, _amount in parsed}
    # This node's prices at those moments (one read): any not written by the run goes, as one by one.
    held = Price.objects.filter(product_id__in={key[0] for key in keys}).values_list(
        "id", "product_id", "store_id", "effective_from"
    )
    drop = set(final) | gone | {pk for pk, *key in held if tuple(key) in keys}
    with transaction.atomic():
        drop_list = list(drop)
        for start in range(0, len(drop_list), 500):
            Price.objects.filter(pk__in=drop_list[start : start + 500]).delete()
        rows_insert(
            Price,
            ("id", "product_id", "store_id", "amount", "effective_from"),
            ((price_id, *key[:2], amount, key[2]) for price_id, (key, amount) in final.items()),
        )
    return [env for env, *_rest in parsed], list(envs[len(parsed) :])
