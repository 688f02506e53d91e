"""Other stores' stock levels and points balances, published by head office (docs/sync-protocol.md §5.2).

A store's push moves stock levels that the stores of its region show at their handhelds, and points
balances every store shows at its tills. Re-publishing each movement and entry would send every
sale's lines to every store of the chain (500 stores: 500 copies of every line). Instead a push
marks what it moved (``stock_changes_mark``, ``points_changes_mark``, in the push's transaction),
and at most every ``SYNC_SHARED_PUBLISH_SECONDS`` the next pull (or a worker's nudge watcher,
``cloud/sync/consumers.py``) publishes the current value of each as ``stock.levels`` and
``points.balances`` events in head office's outbox (``shared_state_publish``); from there they
enter the feed like any of head office's events.

Consistency: the values and every store's ``ack_seq`` are read in one snapshot (REPEATABLE READ on
PostgreSQL; SQLite has one writer), so each balance holds every store's entries up to that store's
``ack_seq`` and none after. They are written in a second transaction, which publishes nothing when
another publication landed in between and deletes only the marks whose ``token`` it read: a push
that moved the same row after the snapshot left a new token, and is published next time. A crash
between the two leaves every mark for next time.
"""

from __future__ import annotations

import functools
import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from cloud.sync.models import SharedPointsChange, SharedStatePublication, SharedStockChange, StoreSyncState
from retail.dbcopy import pg_array, pg_cursor, pg_upsert_add
from retail.members.models import Member
from retail.outbox.services import event_append_many
from retail.replication.wire import CLOUD_ORIGIN
from retail.sqlrows import columns, joined_rows
from retail.stock.models import StockLevel
from retail.stores.models import Store

PER_EVENT = 1_000  # levels or balances in one event
PER_PUBLICATION = 20_000  # marks read by one publication; the rest go in the next, at once


def _token() -> int:
    return random.getrandbits(62)


def _marks_write(model, keys: tuple[str, ...], rows: Iterable[tuple]) -> None:
    """Upsert marks: each key tuple of ``rows`` (UUIDs, in key order) gets one new token."""
    rows = sorted({tuple(uuid.UUID(str(v)) for v in row) for row in rows})
    if not rows:
        return
    token = _token()
    if connection.vendor == "postgresql":
        pg_upsert_add(model, keys, (), [(*row, token) for row in rows], touch="token")
        return
    model.objects.bulk_create(
        [model(**dict(zip(keys, row, strict=True)), token=token) for row in rows],
        update_conflicts=True,
        unique_fields=[k.removesuffix("_id") for k in keys],
        update_fields=["token"],
    )


def stock_changes_mark(pairs: Iterable[tuple]) -> None:
    """Mark (store_id, product_id) pairs whose level a push moved (in the push's transaction)."""
    _marks_write(SharedStockChange, ("store_id", "product_id"), pairs)


def points_changes_mark(member_ids: Iterable) -> None:
    """Mark members (survivors) whose balance a push moved (in the push's transaction)."""
    _marks_write(SharedPointsChange, ("member_id",), ((m,) for m in member_ids))


@dataclass
class _Snapshot:
    count: int
    stock: list[tuple] = field(default_factory=list)  # (store_id, product_id, token, on_hand)
    points: list[tuple] = field(default_factory=list)  # (member_id, token, balance)
    acks: dict[str, int] = field(default_factory=dict)
    regions: dict = field(default_factory=dict)  # store_id -> region
    more: bool = False


def _read() -> _Snapshot:
    SharedStatePublication.objects.get_or_create(pk=1)
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        count = SharedStatePublication.objects.filter(pk=1).values_list("count", flat=True).get()
        # Each mark with the value it publishes, in one read per kind (was: one read of levels per
        # store, and every store's marks found by a scan of all of them).
        marks = [
            (m.store_id, m.product_id, m.token, level.on_hand if level.on_hand is not None else 0)
            for m, level in joined_rows(_stock_marks_sql(), [PER_PUBLICATION + 1], _STOCK_MARKS)
        ]
        members = [
            (m.member_id, m.token, member.points_balance)
            for m, member in joined_rows(_points_marks_sql(), [PER_PUBLICATION + 1], _POINTS_MARKS)
        ]
        snap = _Snapshot(count=count, more=len(marks) > PER_PUBLICATION or len(members) > PER_PUBLICATION)
        snap.stock, snap.points = marks[:PER_PUBLICATION], members[:PER_PUBLICATION]
        stores = {s for s, _p, _t, _v in snap.stock}
        snap.acks = dict(StoreSyncState.objects.values_list("store__code", "ack_seq"))
        snap.regions = dict(Store.objects.filter(id__in=stores).values_list("id", "region"))
    return snap


_STOCK_MARKS = [
    (SharedStockChange, "m", ("store_id", "product_id", "token")),
    (StockLevel, "l", ("on_hand",)),
]
_POINTS_MARKS = [(SharedPointsChange, "m", ("member_id", "token")), (Member, "b", ("points_balance",))]


@functools.cache
def _stock_marks_sql() -> str:
    """The stock marks in key order with the level of each (0 where the store has no level row)."""
    q = connection.ops.quote_name
    return (
        f"SELECT {columns(_STOCK_MARKS)} FROM {q(SharedStockChange._meta.db_table)} m "
        f"LEFT JOIN {q(StockLevel._meta.db_table)} l ON l.store_id = m.store_id AND l.product_id = m.product_id "
        "ORDER BY m.store_id, m.product_id LIMIT %s"
    )


@functools.cache
def _points_marks_sql() -> str:
    """The points marks in member order with each member's balance."""
    q = connection.ops.quote_name
    return (
        f"SELECT {columns(_POINTS_MARKS)} FROM {q(SharedPointsChange._meta.db_table)} m "
        f"JOIN {q(Member._meta.db_table)} b ON b.id = m.member_id ORDER BY m.member_id LIMIT %s"
    )


def _marks_delete(model, keys: tuple[str, ...], rows: list[tuple]) -> None:
    """Delete the marks ``rows`` (the ``keys`` then the token) that still hold the token read."""
    if not rows:
        return
    q = connection.ops.quote_name
    table = q(model._meta.db_table)
    columns = [q(model._meta.get_field(k).column) for k in keys] + [q("token")]
    if connection.vendor == "postgresql":
        types = ["uuid"] * len(keys) + ["bigint"]
        names = [f"k{i}" for i in range(len(columns))]
        unnest = ", ".join(f"%s::{t}[]" for t in types)
        match = " AND ".join(f"{table}.{c} = d.{n}" for c, n in zip(columns, names, strict=True))
        with connection.wrap_database_errors, pg_cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} USING unnest({unnest}) AS d({', '.join(names)}) WHERE {match}",
                [pg_array(column) for column in zip(*rows, strict=True)],
            )
        return
    match = " AND ".join(f"{c} = %s" for c in columns)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"DELETE FROM {table} WHERE {match}",
            [tuple(v.hex if isinstance(v, uuid.UUID) else v for v in row) for row in rows],
        )


def _claim(now: datetime) -> bool:
    """Take the publication slot when it is due: one conditional UPDATE, so of the pulls that find it
    due at once (two workers, hundreds of stores) exactly one reads and publishes; the others go on.
    The slot is taken even when nothing is marked: the next publication is then at most one
    interval after the next push."""
    interval = timedelta(seconds=float(getattr(settings, "SYNC_SHARED_PUBLISH_SECONDS", 10.0)))
    table = connection.ops.quote_name(SharedStatePublication._meta.db_table)
    # One statement whether or not the row exists yet (PostgreSQL, and SQLite 3.35 and later).
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (id, count, published_at) VALUES (1, 0, %s) "
            f"ON CONFLICT (id) DO UPDATE SET published_at = EXCLUDED.published_at "
            f"WHERE {table}.published_at IS NULL OR {table}.published_at <= %s RETURNING id",
            [connection.ops.adapt_datetimefield_value(t) for t in (now, now - interval)],
        )
        return cursor.fetchone() is not None


def shared_state_publish() -> int:
    """Publish the levels and balances stores' pushes moved, when due; returns the events written."""
    now = timezone.now()
    if not _claim(now):
        return 0
    if not (SharedStockChange.objects.exists() or SharedPointsChange.objects.exists()):
        return 0
    return _write(_read(), now=now)


def _write(snap: _Snapshot, *, now: datetime) -> int:
    events: list[tuple[str, dict]] = []
    by_store: dict = {}
    for store_id, product_id, _, on_hand in snap.stock:
        by_store.setdefault(store_id, []).append([str(product_id), f"{on_hand:.3f}"])
    for store_id, levels in by_store.items():
        for start in range(0, len(levels), PER_EVENT):
            payload = {
                "store_id": str(store_id),
                "region": snap.regions.get(store_id, ""),
                "levels": levels[start : start + PER_EVENT],
            }
            events.append(("stock.levels", payload))
    balances = [[str(m), balance] for m, _, balance in snap.points]
    for start in range(0, len(balances), PER_EVENT):
        events.append(
            ("points.balances", {"balances": balances[start : start + PER_EVENT], "acks": snap.acks})
        )
    # Locks in the order a push takes them (head office's clock row, then the marks: see
    # ``sync_push_ingest``), so the two never wait for each other in a circle.
    with transaction.atomic():
        state = SharedStatePublication.objects.select_for_update().get(pk=1)
        if state.count != snap.count:
            return 0  # another worker published meanwhile; what it missed stays marked
        if events:
            event_append_many(events=events, origin=CLOUD_ORIGIN)
        _marks_delete(SharedStockChange, ("store_id", "product_id"), [(s, p, t) for s, p, t, _ in snap.stock])
        _marks_delete(SharedPointsChange, ("member_id",), [(m, t) for m, t, _ in snap.points])
        state.count += 1
        state.save(update_fields=["count"])
        if snap.more:  # more marks than one publication takes: the next pull publishes again at once
            SharedStatePublication.objects.filter(pk=1).update(published_at=None)
    return len(events)
