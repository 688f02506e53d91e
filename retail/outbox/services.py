"""Appending events to the outbox: the only way a node records that something happened."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest

from retail.outbox import hlc
from retail.outbox.models import Event, NodeClock
from retail.outbox.types import EVENT_TYPES


class OutboxError(RuntimeError):
    pass


def node_origin() -> str:
    return settings.NODE_ORIGIN


def _json_ready(payload: dict[str, Any]) -> dict[str, Any]:
    # Decimals become strings (never floats), UUIDs and datetimes ISO strings.
    import json

    return json.loads(json.dumps(payload, cls=DjangoJSONEncoder))


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
    return Event.objects.create(
        origin=origin, seq=seq, hlc=stamp, type=type, schema=spec.schema, payload=_json_ready(payload)
    )


def _advance_clock(origin: str) -> tuple[int, int]:
    # The UPDATE takes the row's write lock first, so concurrent appenders of this origin queue
    # here until we commit; the read after it sees our own increment.
    advance = {"last_seq": F("last_seq") + 1, "last_hlc": Greatest(Value(hlc.tick(0)), F("last_hlc") + 1)}
    if not NodeClock.objects.filter(origin=origin).update(**advance):
        NodeClock.objects.get_or_create(origin=origin)
        NodeClock.objects.filter(origin=origin).update(**advance)
    return NodeClock.objects.filter(origin=origin).values_list("last_seq", "last_hlc").get()


def clock_observe(*, remote_hlc: int, max_skew_ms: int | None = None, origin: str | None = None) -> int:
    """Move this node's clock past a remote event's stamp (raises ``hlc.ClockSkewError`` if untrusted)."""
    origin = origin or node_origin()
    with transaction.atomic():
        clock, _ = NodeClock.objects.get_or_create(origin=origin)
        stamp = hlc.receive(clock.last_hlc, remote_hlc, max_skew_ms=max_skew_ms)
        NodeClock.objects.filter(origin=origin).update(last_hlc=stamp)
    return stamp
