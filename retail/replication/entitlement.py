"""Which store may learn which event (docs/sync-protocol.md, "Entitlement").

The cloud re-publishes every event a store may see into its feed with an audience: every store,
the stores of one region, or exactly one. An event meant for two stores (a transfer's dispatch goes
to the sending and the receiving store) enters the feed once per audience. A store never receives
its own events back, another store's sales or shifts, another store's prices, terminals or staff
PIN hashes, a transfer it is not party to, or another region's stock levels. Other stores' stock
movements and points entries reach it as the levels and balances head office publishes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from retail.replication.wire import CLOUD_ORIGIN, Envelope

# Store facts every other store learns one by one: member identity (one member, every store).
SHARED_STORE_TYPES = frozenset({"member.created", "member.updated"})
# A store's stock movements, counts and points entries are not re-published one by one: every
# store would receive every sale's lines from every other store. Head office publishes what they
# changed instead, as levels and balances (``cloud.sync.shared_state``): these two types.
SHARED_STATE_TYPES = frozenset({"stock.levels", "points.balances"})
# Head office events aimed at one store when their payload names it.
STORE_SCOPED_CLOUD_TYPES = frozenset({"price.set", "staff.updated", "terminal.updated"})


@dataclass(frozen=True)
class Audience:
    published: bool
    store_id: uuid.UUID | None = None  # None: every store (of ``region``, when set)
    region: str | None = None  # None: every region
    not_store_id: uuid.UUID | None = None  # the store it is about, which never gets it back


NOBODY = Audience(published=False)
EVERYONE = Audience(published=True)


def feed_audiences(env: Envelope) -> list[Audience]:
    """Every audience the event enters the feed for (an empty list: no store may learn it).

    Head office's ``transfer.sent`` goes to its two stores: the receiving store needs the lines to
    receive, the sending store its copy of what left. The receiving store's ``transfer.received``
    goes back to the sending store alone. Every other type has at most one audience.
    """
    if env.type.startswith("transfer."):
        return _transfer_audiences(env)
    audience = feed_audience(env)
    return [audience] if audience.published else []


def feed_audience(env: Envelope) -> Audience:
    """The audience of an event addressed to at most one store; ``feed_audiences`` gives them all
    (for ``transfer.sent`` this is the receiving store's)."""
    if env.type.startswith("transfer."):
        audiences = _transfer_audiences(env)
        return audiences[-1] if audiences else NOBODY
    if env.origin != CLOUD_ORIGIN:
        return EVERYONE if env.type in SHARED_STORE_TYPES else NOBODY
    if env.type == "stock.levels":  # a store's levels, for the look-up of the stores of its region
        p = env.payload
        return Audience(
            published=True, region=str(p.get("region") or ""), not_store_id=uuid.UUID(str(p["store_id"]))
        )
    store_id = env.payload.get("store_id")
    if store_id and (env.type in STORE_SCOPED_CLOUD_TYPES or env.type.startswith("order.")):
        return Audience(published=True, store_id=uuid.UUID(str(store_id)))
    return EVERYONE


def nudges(env: Envelope, audience: Audience) -> bool:
    """Whether a feed entry wakes the stores at once (the nudge), rather than waiting for their poll.

    Head office's events do (a price change must reach an online store in about a second), and so
    does anything addressed to one store (a transfer received back at its sender). Other stores'
    shared facts (members, and the stock levels and points balances head office publishes for
    them) do not: they are many, every store would pull after every sale anywhere in the chain,
    and the store learns them at its next poll.
    """
    if env.type in SHARED_STATE_TYPES:
        return False  # other stores' levels and balances: many, and the poll brings them
    return env.origin == CLOUD_ORIGIN or audience.store_id is not None


def _transfer_audiences(env: Envelope) -> list[Audience]:
    # Only the parties to a transfer learn of it, and only through these two types.
    p = env.payload
    if env.type == "transfer.sent" and env.origin == CLOUD_ORIGIN:
        return [
            Audience(published=True, store_id=uuid.UUID(str(p["from_store_id"]))),
            Audience(published=True, store_id=uuid.UUID(str(p["to_store_id"]))),
        ]
    if env.type == "transfer.received" and env.origin != CLOUD_ORIGIN:
        return [Audience(published=True, store_id=uuid.UUID(str(p["from_store_id"])))]
    return []
