"""Which store may learn which event (docs/sync-protocol.md, "Entitlement").

The cloud re-publishes every event a store may see into its feed with an audience: every store, or
exactly one. A store never receives its own events back, another store's sales or shifts, another
store's prices, terminals or staff PIN hashes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from retail.replication.wire import CLOUD_ORIGIN, Envelope

# Store facts every other store needs: member identity and points (one member, every store), and
# stock levels for look-up.
SHARED_STORE_TYPES = frozenset(
    {"member.created", "member.updated", "points.posted", "stock.moved", "stock.counted"}
)
# Head office events aimed at one store when their payload names it.
STORE_SCOPED_CLOUD_TYPES = frozenset({"price.set", "staff.updated", "terminal.updated"})


@dataclass(frozen=True)
class Audience:
    published: bool
    store_id: uuid.UUID | None = None  # None: every store


NOBODY = Audience(published=False)
EVERYONE = Audience(published=True)


def feed_audience(env: Envelope) -> Audience:
    if env.origin != CLOUD_ORIGIN:
        return EVERYONE if env.type in SHARED_STORE_TYPES else NOBODY
    store_id = env.payload.get("store_id")
    if store_id and (env.type in STORE_SCOPED_CLOUD_TYPES or env.type.startswith("order.")):
        return Audience(published=True, store_id=uuid.UUID(str(store_id)))
    return EVERYONE
