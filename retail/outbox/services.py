"""Appending events to the outbox: the only way a node records that something happened."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from retail.outbox import hlc
from retail.outbox.encoding import PayloadEncoder
from retail.outbox.models import Event, NodeClock
from retail.outbox.types import EVENT_TYPES
from retail.sqlrows import rows_insert


class OutboxError(RuntimeError):
    pass


def node_origin() -> str:
    return settings.NODE_ORIGIN


def _json_ready(payload: dict[str, Any]) -> dict[str, Any]:
    # Decimals become strings (never floats), UUIDs and datetimes ISO strings.
    return json.loads(json.dumps(payload, cls=PayloadEncoder))


def event_append(*, type: str, payload: dict[str, Any], origin: str | None = None) -> Event:
    """Append one event in the caller's transaction.

    Invariant: the event commits if and only if the caller's change commits (it must run inside
    ``transaction.atomic()``), and ``seq`` is the next integer for its origin with no gap.
    """
    if not connection.in_atomic_block:
        raise OutboxError("event_append must run inside the transaction of the change it records")
    spec = EVENT_TYPES.get(type)
    if spec is None:
        raise OutboxError(f"unknown event type {type!r}; add it to retail/outbox/types.py and docs/events.md")
    origin = origin or node_origin()
    seq, stamp = _advance_clock(origin)
    event = Event(
        origin=origin, seq=seq, hlc=stamp, type=type, schema=spec.schema, payload=_json_ready(payload)
    )
    return rows_insert([event])[0]


def event_append_many(*, events: list[tuple[str, dict[str, Any]]], origin: str | None = None) -> list[Event]:
    """Append several events, in order, in the caller's transaction: one clock advance, one INSERT.

    Same invariants as ``event_append``, which it equals called once per event: the events commit
    if and only if the caller's change commits, their ``seq`` are the next ``len(events)`` integers
    of the origin in the order given, and their ``hlc`` increase strictly, none behind the wall clock.
    """
    if not connection.in_atomic_block:
        raise OutboxError("event_append_many must run inside the transaction of the change it records")
    specs = []
    for type, _payload in events:
        spec = EVENT_TYPES.get(type)
        if spec is None:
            raise OutboxError(
                f"unknown event type {type!r}; add it to retail/outbox/types.py and docs/events.md"
            )
        specs.append(spec)
    if not events:
        return []
    origin = origin or node_origin()
    last_seq, last_hlc = _advance_clock(origin, len(events))
    first_seq, first_hlc = last_seq - len(events) + 1, last_hlc - len(events) + 1
    return rows_insert(
        [
            Event(
                origin=origin,
                seq=first_seq + i,
                hlc=first_hlc + i,
                type=type,
                schema=spec.schema,
                payload=_json_ready(payload),
            )
            for i, ((type, payload), spec) in enumerate(zip(events, specs, strict=True))
        ]
    )


def _advance_clock(origin: str, count: int = 1) -> tuple[int, int]:
    """Take ``count`` seqs and clock values; returns the last of each (the first is ``last - count + 1``).

    One ``UPDATE … RETURNING``: it takes the row's write lock first, so concurrent appenders of this
    origin queue here until we commit. ``last_hlc`` becomes ``max(now + count - 1, last_hlc + count)``
    so the first of the ``count`` values is ``max(now, last_hlc + 1)``, as ``hlc.tick`` gives.
    """
    greatest = "MAX" if connection.vendor == "sqlite" else "GREATEST"
    table = connection.ops.quote_name(NodeClock._meta.db_table)
    sql = (
        f"UPDATE {table} SET last_seq = last_seq + %s, last_hlc = {greatest}(%s, last_hlc + %s) "
        "WHERE origin = %s RETURNING last_seq, last_hlc"
    )
    params = [count, hlc.tick(0) + count - 1, count, origin]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        if row is None:  # the origin's first event
            NodeClock.objects.get_or_create(origin=origin)
            cursor.execute(sql, params)
            row = cursor.fetchone()
    return row[0], row[1]


def clock_observe(*, remote_hlc: int, max_skew_ms: int | None = None, origin: str | None = None) -> int:
    """Move this node's clock past a remote event's stamp (raises ``hlc.ClockSkewError`` if untrusted)."""
    origin = origin or node_origin()
    with transaction.atomic():
        clock, _ = NodeClock.objects.get_or_create(origin=origin)
        stamp = hlc.receive(clock.last_hlc, remote_hlc, max_skew_ms=max_skew_ms)
        NodeClock.objects.filter(origin=origin).update(last_hlc=stamp)
    return stamp
