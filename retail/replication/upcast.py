"""Upcasters: turn an event of an older schema version into the current shape before applying it.

A node accepts every schema version up to the one it knows (``retail/outbox/types.py``). An older
version goes through the chain ``UPCASTERS[(type, v)]`` -> v+1 -> ... -> current. A version newer
than this node knows cannot be understood: it is quarantined (never dropped) until the node is
upgraded and the event is retried from admin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from retail.outbox.types import EVENT_TYPES
from retail.replication.errors import UNKNOWN_SCHEMA, UNKNOWN_TYPE, ApplyRefused

Payload = dict[str, Any]

# (type, from_version) -> function turning a payload of from_version into from_version + 1.
# Every type is at schema 1 today; the first change adds its step here, e.g.
#   ("member.updated", 1): lambda p: {**p, "fields": {**p["fields"]}},
UPCASTERS: dict[tuple[str, int], Callable[[Payload], Payload]] = {}


def upcast(*, type: str, schema: int, payload: Payload) -> Payload:
    """The payload in the current schema of ``type`` (raises ``ApplyRefused`` when impossible)."""
    spec = EVENT_TYPES.get(type)
    if spec is None:
        raise ApplyRefused(UNKNOWN_TYPE, f"{type!r} is not an event type this node knows")
    if schema > spec.schema:
        raise ApplyRefused(UNKNOWN_SCHEMA, f"{type} schema {schema} is newer than {spec.schema}")
    while schema < spec.schema:
        step = UPCASTERS.get((type, schema))
        if step is None:
            raise ApplyRefused(UNKNOWN_SCHEMA, f"no upcaster for {type} schema {schema}")
        payload, schema = step(payload), schema + 1
    return payload
