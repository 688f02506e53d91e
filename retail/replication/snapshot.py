"""Snapshots: everything a store may see, as one stream of rows tagged with a feed cursor.

The cloud writes the rows (``snapshot_rows``) inside one repeatable-read transaction together
with the cursor, so the snapshot equals "the feed applied up to that cursor". A store loads them
(``SnapshotLoader``) in one transaction in bounded chunks and then pulls the feed from the cursor.
Rows are JSON objects with a ``t`` (table) key; tables come in dependency order. Last come
``event`` rows: head office's events still in force for the store that the cursor has already
passed (a transfer on its way to or from the store); the store applies them with its appliers, as
if pulled, so they need no table of their own in the shared domain.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal

from django.db import connection, connections, models
from django.db.models import OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.dateparse import parse_datetime

from retail.catalog.models import Barcode, Price, Product, TaxClass, TaxRate
from retail.db.bulk_load import IndexesDeferred
from retail.members.models import Member, PointsEntry
from retail.members.services import member_absorb
from retail.replication.appliers import ApplyContext, event_apply, member_fields_merge
from retail.replication.errors import ApplyRefused
from retail.replication.wire import Envelope, EnvelopeError, envelope_parse
from retail.staff.models import User
from retail.stock.models import MovementKind, StockLevel, StockMovement
from retail.stores.models import Store, Terminal

log = logging.getLogger(__name__)

SNAPSHOT_FORMAT = 1
CHUNK = 2000
_NS = uuid.UUID("0b7c1e7e-4d44-4b7e-9a55-5a1f6c0c2d10")
# The feed relays the store's events with a clock the cloud already checked (store_node/sync).
_TRUST_SKEW_MS = 1 << 62

# Where the snapshot's ``event`` rows come from: each source gives, for a store id, head office's
# events that are still in force for it (the cloud's transfers app registers the open transfers in
# its AppConfig.ready(); retail cannot import the role that owns those rows).
SNAPSHOT_EVENT_SOURCES: dict[str, Callable[[uuid.UUID], Iterable[Envelope]]] = {}

_COLUMNS: dict[str, tuple] = {
    "store": (Store, ("id", "code", "name", "address", "city", "postcode", "phone", "time_zone", "active")),
    "tax_class": (TaxClass, ("code", "name")),
    "tax_rate": (TaxRate, ("tax_class_id", "rate", "effective_from")),
    "terminal": (
        Terminal,
        (
            "id",
            "store_id",
            "code",
            "name",
            "printer_address",
            "printer_profile",
            "paper_width_mm",
            "drawer_pin",
            "scanner_address",
            "active",
        ),
    ),
    "staff": (
        User,
        ("id", "username", "first_name", "last_name", "role", "store_id", "pin_hash", "is_active"),
    ),
    "product": (Product, ("id", "sku", "name", "unit", "tax_class_id", "active")),
    "barcode": (Barcode, ("code", "product_id")),
    "price": (Price, ("id", "product_id", "store_id", "amount", "effective_from")),
    "member": (
        Member,
        ("id", "number", *Member.PROFILE_FIELDS, "field_clocks", "origin", "merged_into_id", "merged_at"),
    ),
    "points_entry": (
        PointsEntry,
        ("id", "member_id", "kind", "points", "sale_id", "reason", "origin", "created_at"),
    ),
    "stock_level": (StockLevel, ("store_id", "product_id", "on_hand")),
}
# The tables each snapshot table fills: loaded into an empty one, their indexes are built after.
_FILLS: dict[str, tuple] = {
    "product": (Product,),
    "barcode": (Barcode,),
    "price": (Price,),
    "member": (Member,),
    "points_entry": (PointsEntry,),
    "stock_level": (StockMovement, StockLevel),
}
_DECIMALS = {"rate", "amount", "on_hand"}
_TIMES = {"effective_from", "created_at", "merged_at"}


def snapshot_rows(*, store_id) -> Iterator[dict]:
    """Every row the store ``store_id`` is entitled to, table by table (run in one transaction)."""
    scopes = {
        "terminal": {"store_id": store_id},
        "price": None,
        "staff": None,
    }
    for table, (model, columns) in _COLUMNS.items():
        qs = model.objects.all()
        if table == "terminal":
            qs = qs.filter(**scopes["terminal"])
        elif table == "price":
            qs = qs.filter(store_id__isnull=True) | qs.filter(store_id=store_id)
        elif table == "staff":
            qs = qs.filter(store_id__isnull=True, is_superuser=False) | qs.filter(store_id=store_id)
        elif table == "stock_level":  # its own and its region's stores' (entitlement: stock.levels)
            qs = qs.filter(store__region=Store.objects.filter(pk=store_id).values("region")[:1])
        # Each table in the order of its key at the store, so a new store's inserts append to the
        # key's index instead of landing all over it (levels: the unique (store, product) pair).
        order = ("code",) if table in ("tax_class", "barcode") else ("id",) if "id" in columns else ("pk",)
        if table == "stock_level":
            order = ("store_id", "product_id")
        for values in qs.order_by(*order).values_list(*columns).iterator(chunk_size=CHUNK):
            yield {"t": table, **dict(zip(columns, values, strict=True))}
    for source in SNAPSHOT_EVENT_SOURCES.values():
        for env in source(store_id):
            yield {"t": "event", "event": env.as_wire()}


class SnapshotLoader:
    """Load snapshot rows into this (store) node in bounded chunks, inside the caller's transaction.

    Head office's tables (catalog, prices, stores, staff) are replaced; members merge field by
    field (LWW), so a local edit not yet pushed survives; points entries are inserted once by id and
    balances recomputed from the ledger; a stock level becomes an opening ``count`` movement only
    where this node holds no level of its own for that (store, product). ``event`` rows are applied
    by this node's appliers (idempotent, so an event it already holds changes nothing); one it
    refuses is logged and kept in ``refused`` and does not stop the load.
    """

    def __init__(self, *, cursor: int):
        self.cursor = cursor
        if connection.vendor == "sqlite":
            # A catalog's indexes outgrow SQLite's default 2 MB page cache many times over while
            # they are filled; 64 MB for this connection keeps the load from thrashing.
            with connection.cursor() as c:
                c.execute("PRAGMA cache_size = -65536")
        self.buffer: list[dict] = []
        self.table: str | None = None
        self.counts: dict[str, int] = {}
        self.merges: list[tuple] = []  # (loser, survivor, merged_at), applied once every member is in
        self.refused: list[tuple[Envelope, ApplyRefused]] = []
        self._levels_held: bool | None = None  # did this node hold stock levels before the load
        self._cleared = False
        # A table empty when its rows begin (a new store's catalog) gets its indexes after them.
        self._deferred = IndexesDeferred(connection)
        self._deferral_asked: set[str] = set()

    def add(self, row: dict) -> None:
        table = row.get("t")
        if table not in _COLUMNS and table != "event":
            return  # a table a newer cloud sends and we do not know: ignore, the feed fills the gap
        if table != self.table or len(self.buffer) >= CHUNK:
            self._flush()
            if table != self.table:
                self._deferred.restore()  # the previous table is complete: its indexes now
            self.table = table
        self.buffer.append(row)

    def finish(self) -> dict[str, int]:
        self._flush()
        self._deferred.restore()
        self._merges()
        # A member's balance is the ledger of its merged set (itself and the members merged into it).
        own = PointsEntry.objects.filter(member=OuterRef("pk")).values("member").annotate(s=Sum("points"))
        absorbed = (
            PointsEntry.objects.filter(member__merged_into=OuterRef("pk"))
            .values("member__merged_into")
            .annotate(s=Sum("points"))
        )
        Member.objects.filter(merged_into__isnull=True).update(
            points_balance=Coalesce(Subquery(own.values("s")), Value(0))
            + Coalesce(Subquery(absorbed.values("s")), Value(0))
        )
        Member.objects.filter(merged_into__isnull=False).update(points_balance=0)
        return self.counts

    def _merges(self) -> None:
        """Adopt head office's merges: a member the snapshot shows merged is merged here too (its
        unpushed local writes folded into the survivor); a merge naming a member this node does not
        hold is left out and counted."""
        for loser_id, survivor_id, merged_at in self.merges:
            rows = Member.objects.in_bulk([loser_id, survivor_id])
            if len(rows) < 2:
                self.counts["member_merges_skipped"] = self.counts.get("member_merges_skipped", 0) + 1
                continue
            loser, survivor = rows[loser_id], rows[survivor_id]
            if loser.merged_into_id != survivor.pk:
                member_absorb(loser=loser, survivor=survivor, merged_at=merged_at)
        # A local merge the snapshot supersedes (a member merged into one that is merged itself now)
        # follows to the survivor, so ``merged_into`` again names a member that is not merged.
        for _ in range(10):
            stale = list(
                Member.objects.filter(merged_into__merged_into__isnull=False).values_list(
                    "pk", "merged_into__merged_into"
                )
            )
            if not stale:
                break
            for pk, survivor_id in stale:
                Member.objects.filter(pk=pk).update(merged_into=survivor_id)

    def _clear_head_office_tables(self) -> None:
        # Prices, barcodes and rates are head office's: the snapshot's copy replaces ours.
        Price.objects.all().delete()
        Barcode.objects.all().delete()
        TaxRate.objects.all().delete()
        self._cleared = True

    def _flush(self) -> None:
        if not self.buffer:
            return
        if not self._cleared:
            self._clear_head_office_tables()
        table, rows = self.table, self.buffer
        self.buffer = []
        if table in _FILLS and table not in self._deferral_asked:
            self._deferral_asked.add(table)
            for model in _FILLS[table]:
                self._deferred.defer(model._meta.db_table)
        if table == "event":
            self._events(rows)
            return
        model, columns = _COLUMNS[table]
        self.counts[table] = self.counts.get(table, 0) + len(rows)
        if table == "stock_level":
            self._levels(rows)
            return
        if table in ("barcode", "tax_rate", "price"):
            _insert(model, columns, rows)  # the tables were cleared: plain inserts
            return
        if table in ("member", "points_entry"):
            objects = [model(**{c: _value(c, row.get(c)) for c in columns}) for row in rows]
            if table == "member":
                self._members(objects)
            else:
                PointsEntry.objects.bulk_create(objects, ignore_conflicts=True)
            return
        _insert(model, columns, rows, upsert_on="code" if table == "tax_class" else "id")

    def _members(self, members: list[Member]) -> None:
        for member in members:
            member.id = uuid.UUID(str(member.id))  # rows carry strings; in_bulk keys are UUIDs
            if member.merged_into_id is not None:
                self.merges.append((member.id, uuid.UUID(str(member.merged_into_id)), member.merged_at))
                member.merged_into_id, member.merged_at = None, None  # set by _merges, survivor loaded
        existing = Member.objects.in_bulk([m.id for m in members])
        fresh = [m for m in members if m.id not in existing]
        # A different local member already holding the number or card (a store that was seeded or
        # restored on its own) keeps it; the cloud's member arrives without the card, or not at all.
        numbers = set(
            Member.objects.filter(number__in=[m.number for m in fresh]).values_list("number", flat=True)
        )
        cards = set(
            Member.objects.filter(
                card_barcode__in=[m.card_barcode for m in fresh if m.card_barcode]
            ).values_list("card_barcode", flat=True)
        )
        conflicts = [m for m in fresh if m.number in numbers]
        fresh = [m for m in fresh if m.number not in numbers]
        for member in fresh:
            if member.card_barcode in cards:
                member.card_barcode = None
        if conflicts:
            self.counts["member_conflicts"] = self.counts.get("member_conflicts", 0) + len(conflicts)
        Member.objects.bulk_create(fresh)
        for remote in members:
            local = existing.get(remote.id)
            if local is None:
                continue
            for name in Member.PROFILE_FIELDS:
                stamp = (remote.field_clocks or {}).get(name)
                if stamp:
                    member_fields_merge(local, {name: getattr(remote, name)}, (int(stamp[0]), str(stamp[1])))
            local.save(update_fields=[*Member.PROFILE_FIELDS, "field_clocks"])

    def _events(self, rows: list[dict]) -> None:
        ctx = ApplyContext(max_skew_ms=_TRUST_SKEW_MS)
        for row in rows:
            try:
                env = envelope_parse(row.get("event"))
            except EnvelopeError as exc:
                env, refused = None, ApplyRefused("invalid_envelope", str(exc))
            else:
                try:
                    event_apply(env=env, ctx=ctx)
                    self.counts["event"] = self.counts.get("event", 0) + 1
                    continue
                except ApplyRefused as exc:
                    refused = exc
            log.warning("snapshot event %s not applied: %s", env and f"{env.origin}#{env.seq}", refused)
            self.refused.append((env, refused))
            self.counts["event_refused"] = self.counts.get("event_refused", 0) + 1

    def _levels(self, rows: list[dict]) -> None:
        # Keys compared as 32 lowercase hex digits: no UUID object per row (the hot path of a
        # catalog load is some 300,000 levels, three million for a million products).
        levels = [(_hex(row["store_id"]), _hex(row["product_id"]), row["on_hand"]) for row in rows]
        table = StockLevel._meta.db_table
        if self._levels_held is None:  # once per load: did this node hold any level before it began?
            with connection.cursor() as c:
                c.execute(f"SELECT 1 FROM {table} LIMIT 1")
                self._levels_held = c.fetchone() is not None
        fresh = levels  # a node that held none takes every level (the cloud holds one per key)
        if self._levels_held:
            # Which of this chunk's levels the node holds (from before, or from earlier in this load):
            # asked chunk by chunk, so memory does not grow with the catalog.
            with connection.cursor() as c:
                placeholders = ", ".join(["(%s, %s)"] * len(levels))
                c.execute(
                    f"SELECT store_id, product_id FROM {table} WHERE (store_id, product_id) IN ({placeholders})",
                    [_db_uuid(part) for lv in levels for part in lv[:2]],
                )
                held = {(_hex(st), _hex(pr)) for st, pr in c.fetchall()}
            fresh = [lv for lv in levels if (lv[0], lv[1]) not in held]
        now = _now()
        reference = f"snapshot@{self.cursor}"
        movement_columns = ("id", "store_id", "product_id", "kind", "quantity", "reference", "note", "origin",
                            "created_at")  # fmt: skip
        level_columns = ("store_id", "product_id", "on_hand", "updated_at")
        if connection.vendor == "sqlite":
            # The values as ``_insert`` would prepare them, computed once per chunk where they are
            # the same for every row (the time, the reference) and not converted back and forth.
            stamp = _sqlite_time(now)
            movements = [
                (_uuid5_hex(f"{_dashed(st)}:{_dashed(pr)}:{self.cursor}"), st, pr, MovementKind.COUNT,
                 _sqlite_decimal(q), reference, "", "cloud", stamp)
                for st, pr, q in fresh
            ]  # fmt: skip
            # In id order: each chunk's ids (random uuid5s) go into the id index in one sweep.
            _insert_prepared(StockMovement, movement_columns, sorted(movements))
            _insert_prepared(
                StockLevel,
                level_columns,
                [
                    (st, pr, movement[4], stamp)
                    for (st, pr, _q), movement in zip(fresh, movements, strict=True)
                ],
            )
            return
        _insert(
            StockMovement,
            movement_columns,
            [
                {
                    "id": _uuid5_hex(f"{_dashed(store)}:{_dashed(product)}:{self.cursor}"),
                    "store_id": store,
                    "product_id": product,
                    "kind": MovementKind.COUNT,
                    "quantity": on_hand,
                    "reference": reference,
                    "note": "",
                    "origin": "cloud",
                    "created_at": now,
                }
                for store, product, on_hand in fresh
            ],
        )
        _insert(
            StockLevel,
            level_columns,
            [{"store_id": s, "product_id": p, "on_hand": q, "updated_at": now} for s, p, q in fresh],
        )


def _db_uuid(digits: str):
    """32 hex digits as the database compares a UUID column: the digits on SQLite, a UUID elsewhere."""
    return digits if connection.vendor == "sqlite" else uuid.UUID(digits)


def _sqlite_decimal(raw):
    """A decimal from the wire as the SQLite driver is given it by ``_insert`` (a Decimal)."""
    return None if raw is None else Decimal(raw if raw.__class__ is str else str(raw))


def _insert_prepared(model, columns, params: list[tuple]) -> None:
    """INSERT rows whose values are already what the driver takes, in the order of ``columns``
    (every concrete column but an automatic primary key)."""
    if not params:
        return
    meta = model._meta
    quote = connection.ops.quote_name
    fields = [meta.get_field(c) for c in columns]
    assert {f.column for f in fields} == {f.column for f in meta.concrete_fields if not f.primary_key} or (
        meta.pk.column in {f.column for f in fields}
        and {f.column for f in fields} == {f.column for f in meta.concrete_fields}
    ), f"{meta.db_table}: every column must be given"
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(meta.db_table), ", ".join(quote(f.column) for f in fields), ", ".join(["%s"] * len(fields))
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _hex(raw) -> str:
    """A UUID from the wire (or a UUID) as 32 lowercase hex digits; ValueError if it is none."""
    if raw.__class__ is str:
        digits = raw.replace("-", "").lower()
        if len(digits) == 32 and digits.isalnum():
            int(digits, 16)
            return digits
    return (raw if isinstance(raw, uuid.UUID) else uuid.UUID(str(raw))).hex


def _uuid5_hex(name: str) -> str:
    """``uuid.uuid5(_NS, name).hex`` without the two UUID objects (a level of the catalog each)."""
    digest = bytearray(hashlib.sha1(_NS.bytes + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    return digest.hex()


def _dashed(digits: str) -> str:
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def _insert(model, columns, rows: list[dict], *, upsert_on: str | None = None) -> None:
    """INSERT the rows with one prepared statement (``executemany``), each value prepared by its
    model field as ``bulk_create`` would, without building a model instance per row: loading a
    100,000-product catalog is mostly this. ``upsert_on``: update the other columns on a conflict
    of that unique column (SQLite and PostgreSQL spell it the same)."""
    if not rows:
        return
    meta = model._meta
    fields = [meta.get_field(c) for c in columns]
    # Columns the snapshot does not carry get their field's default on insert ("" for a blank
    # CharField), as bulk_create would give them; an upsert leaves them as they are.
    named = {f.column for f in fields}
    defaults = [f for f in meta.concrete_fields if f.column not in named and not f.primary_key]
    quote = connection.ops.quote_name
    inserted = [*fields, *defaults]
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(meta.db_table), ", ".join(quote(f.column) for f in inserted), ", ".join(["%s"] * len(inserted))
    )
    if upsert_on:
        key = meta.get_field(upsert_on).column
        updated = [f for f in fields if f.column != key] + [
            f for f in defaults if getattr(f, "auto_now", False)
        ]
        sql += " ON CONFLICT ({}) DO UPDATE SET {}".format(
            quote(key), ", ".join(f"{quote(f.column)} = excluded.{quote(f.column)}" for f in updated)
        )
    now = _now()
    db = connections[connection.alias]  # the wrapper itself: the proxy costs a lookup per value
    fixed = [
        f.get_db_prep_save(
            now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default(),
            db,
        )
        for f in defaults
    ]
    convert = [_converter(f, c, db) for f, c in zip(fields, columns, strict=True)]
    params = [[conv(row.get(c)) for conv, c in zip(convert, columns, strict=True)] + fixed for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _converter(field, column: str, db) -> Callable:
    """The function turning a snapshot value into what ``field.get_db_prep_save`` would give the
    driver. On SQLite (the store) the three hot kinds are written directly, exactly as Django
    stores them: a UUID as 32 hex digits, a decimal as a Decimal, an aware time as naive UTC
    ``YYYY-MM-DD HH:MM:SS[.ffffff]`` (SQLite compares times as strings, so the form must match)."""
    target = field.target_field if field.is_relation else field
    if db.vendor == "sqlite":
        if isinstance(target, models.UUIDField):
            return _sqlite_uuid
        if isinstance(target, models.DecimalField):
            return lambda raw: None if raw is None else target.to_python(raw)  # the driver adapts it
        if isinstance(target, models.DateTimeField):
            return _sqlite_time
    slow = lambda raw: field.get_db_prep_save(_value(column, raw), db)  # noqa: E731
    if isinstance(field, models.CharField | models.TextField):
        return lambda raw: raw if raw.__class__ is str else slow(raw)
    if isinstance(field, models.BooleanField):
        return lambda raw: raw if raw.__class__ is bool else slow(raw)
    if isinstance(field, models.IntegerField):
        return lambda raw: raw if raw.__class__ is int else slow(raw)
    return slow


def _sqlite_uuid(raw):
    return None if raw is None else _hex(raw)


def _sqlite_time(raw):
    if raw is None:
        return None
    moment = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"a snapshot time without a zone: {raw!r}")
    return str(moment.astimezone(UTC).replace(tzinfo=None))


def _now():
    from django.utils import timezone

    return timezone.now()


def _value(column: str, raw):
    if raw is None:
        return None
    if column in _DECIMALS:
        return Decimal(str(raw))
    if column in _TIMES:
        return parse_datetime(str(raw))
    return raw
