"""Reads of the sync app: credential look-up, the feed, and per-store health for admin."""

from __future__ import annotations

import functools
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Count, Max
from django.utils import timezone

from cloud.sync.models import FeedEntry, FeedState, QuarantinedEvent, StoreCredential, StoreSyncState
from retail.api_errors import DomainError
from retail.outbox.models import Event
from retail.replication.entitlement import SHARED_STATE_TYPES
from retail.replication.wire import CLOUD_ORIGIN, MAX_BATCH_BYTES, MAX_PULL_EVENTS, dumps
from retail.sqlrows import columns, joined_row, joined_rows
from retail.stores.models import Store


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def credential_authenticate(*, token: str) -> tuple[StoreCredential | None, tuple[str, str]]:
    """The active credential of a bearer token (its store loaded), or ``(None, (code, detail))``;
    constant-time compare.

    Every sync request and nudge socket starts here, so it is one fixed statement (what
    ``select_related("store").filter(key_id=...).first()`` sends) read through ``retail.sqlrows``:
    the ORM compiling that query was a tenth of a cloud worker's CPU under the 500-store fleet."""
    key_id, _, secret = token.partition(".")
    found = joined_row(_credential_sql(), [key_id], _credential_models()) if secret else None
    credential = None
    if found is not None:
        credential, store = found
        StoreCredential.store.field.set_cached_value(credential, store)
    if credential is None or not hmac.compare_digest(credential.secret_hash, secret_hash(secret)):
        return None, ("credential_invalid", "The store credential is not valid.")
    if credential.revoked_at is not None:
        return None, ("credential_revoked", "The store credential was revoked; enroll the store again.")
    now = timezone.now()
    if credential.last_used_at is None or (now - credential.last_used_at).total_seconds() > 60:
        StoreCredential.objects.filter(pk=credential.pk).update(last_used_at=now)
    return credential, ("", "")


@functools.cache
def _credential_models():
    return [(StoreCredential, "c"), (Store, "s")]


@functools.cache
def _credential_sql() -> str:
    q = connection.ops.quote_name
    return (
        f"SELECT {columns(_credential_models())} FROM {q(StoreCredential._meta.db_table)} c "
        f"JOIN {q(Store._meta.db_table)} s ON s.id = c.store_id WHERE c.key_id = %s"
    )


def feed_head() -> tuple[int, int]:
    """(position of the last feed entry that wakes the stores, last cloud outbox seq): what the
    nudge channel watches. Other stores' shared facts move the feed but not this head
    (``entitlement.nudges``): the stores learn them at their next poll."""
    last = FeedState.objects.filter(pk=1).values_list("nudge_seq", flat=True).first() or 0
    cloud = (
        Event.objects.filter(origin=CLOUD_ORIGIN)
        .exclude(type__in=SHARED_STATE_TYPES)
        .aggregate(m=Max("seq"))["m"]
        or 0
    )
    return last, cloud


@dataclass(frozen=True)
class FeedPage:
    events: list[dict]
    cursor: int
    more: bool


def feed_page(
    *, store, cursor: int, limit: int = MAX_PULL_EVENTS, max_bytes: int = MAX_BATCH_BYTES
) -> FeedPage:
    """The store's entitled feed entries after ``cursor``, bounded in count and bytes.

    The head is read *before* the entries: every position up to a committed head is itself
    committed (positions are allocated under the feed lock in commit order), so reading entries
    up to it cannot skip a row that commits late, and the new cursor may jump over entries the
    store is not entitled to.
    """
    conn = connections[DEFAULT_DB_ALIAS]
    with conn.cursor() as db_cursor:
        db_cursor.execute(_feed_state_sql())
        head, floor = db_cursor.fetchone() or (0, 0)
    if cursor < floor:
        raise DomainError(
            f"the feed before {floor} was pruned; load a snapshot", code="cursor_expired", status_code=410
        )
    store_id = FeedEntry._meta.get_field("audience").get_db_prep_value(store.id, conn)
    rows = joined_rows(
        _feed_page_sql(),
        [cursor, head, store_id, store.region, store.code, store_id, limit],
        _FEED_PAGE_MODELS,
    )
    events, size = [], 0
    # One fetch of at most ``limit`` rows (a bounded page), not a server-side cursor's three round trips.
    for (entry,) in rows:
        wire = _entry_wire(entry)
        size += len(dumps(wire))
        events.append(wire)
        if size >= max_bytes:
            return FeedPage(events=events, cursor=entry.seq, more=True)
    if len(events) >= limit:
        return FeedPage(events=events, cursor=events[-1]["fseq"], more=True)
    return FeedPage(events=events, cursor=max(head, cursor), more=False)


def _entry_wire(entry: FeedEntry) -> dict:
    """A feed entry as a pulled event: its envelope and its position ``fseq``."""
    return {
        "id": str(entry.event_id),
        "origin": entry.origin,
        "seq": entry.origin_seq,
        "hlc": entry.hlc,
        "type": entry.type,
        "schema": entry.schema,
        "payload": entry.payload,
        "fseq": entry.seq,
    }


_FEED_PAGE_MODELS = [
    (FeedEntry, "f", ("seq", "event_id", "origin", "origin_seq", "hlc", "type", "schema", "payload"))
]


# ---------------------------------------------------------------- the feed on the nudge socket

# A slice of the feed small enough to travel on the nudge socket (docs/sync-protocol.md §3.6);
# a bigger one (a catalog import) makes the stores pull, in pages. The bytes bound what a worker
# buffers per socket; the count is a pull page's, so head office's publication of other stores'
# levels (one entry per store that sold, every 10 s: some 350 at 500 stores) travels too.
SOCKET_MAX_EVENTS = 2000
SOCKET_MAX_BYTES = 256 * 1024


@dataclass(frozen=True)
class SocketEntry:
    """One feed entry of a slice: its wire form as JSON text, and whom it is for."""

    text: str
    origin: str
    audience_id: object
    audience_region: str | None
    not_to_id: object

    def entitled(self, *, store_id, region: str, code: str) -> bool:
        """Whether the store may see it: the WHERE of ``_feed_page_sql``, for one entry in Python
        (tests hold the two equal)."""
        addressed = (
            (self.audience_id is None and self.audience_region is None)
            or self.audience_id == store_id
            or (self.audience_id is None and self.audience_region == region)
        )
        return addressed and self.origin != code and (self.not_to_id is None or self.not_to_id != store_id)


@dataclass(frozen=True)
class FeedSlice:
    """Every feed entry in positions ``(after, cursor]``, for all stores; ``entries`` is None when
    the slice is too big for the socket (or ``after`` was pruned): the stores then pull."""

    after: int
    cursor: int
    entries: list[SocketEntry] | None
    why: str = ""  # why ``entries`` is None

    def message_for(self, *, store_id, region: str, code: str) -> str:
        """The socket message of one store: ``{"type": "events", "after", "cursor", "events"}``
        with the entries it may see (none is still a message: its cursor moves), or ``more``."""
        if self.entries is None:
            return '{"type":"more"}'
        texts = [e.text for e in self.entries if e.entitled(store_id=store_id, region=region, code=code)]
        return f'{{"type":"events","after":{self.after},"cursor":{self.cursor},"events":[{",".join(texts)}]}}'


def feed_last_seq() -> int:
    """The position of the feed's last entry (0 before the first)."""
    with connection.cursor() as db_cursor:
        db_cursor.execute(_feed_state_sql())
        row = db_cursor.fetchone()
    return row[0] if row else 0


def feed_slice(*, after: int, max_events: int | None = None, max_bytes: int | None = None) -> FeedSlice:
    """The feed after ``after`` up to its head, whoever it is for (one read for every socket of a
    worker), bounded by ``SOCKET_MAX_EVENTS`` and ``SOCKET_MAX_BYTES`` unless given. As in
    ``feed_page``, the head is read before the entries."""
    max_events = max_events or SOCKET_MAX_EVENTS
    max_bytes = max_bytes or SOCKET_MAX_BYTES
    with connection.cursor() as db_cursor:
        db_cursor.execute(_feed_state_sql())
        head, floor = db_cursor.fetchone() or (0, 0)
    if after < floor:
        return FeedSlice(
            after=after, cursor=head, entries=None, why=f"it starts below the pruned floor {floor}"
        )
    rows = joined_rows(_feed_slice_sql(), [after, head, max_events + 1], _FEED_SLICE_MODELS)
    if len(rows) > max_events:
        return FeedSlice(after=after, cursor=head, entries=None, why=f"more than {max_events} entries")
    entries, size = [], 0
    for (entry,) in rows:
        text = dumps(_entry_wire(entry)).decode()
        size += len(text)
        if size > max_bytes:
            return FeedSlice(
                after=after,
                cursor=head,
                entries=None,
                why=f"more than {max_bytes} bytes by entry {entry.seq}",
            )
        entries.append(
            SocketEntry(
                text=text,
                origin=entry.origin,
                audience_id=entry.audience_id,
                audience_region=entry.audience_region,
                not_to_id=entry.not_to_id,
            )
        )
    return FeedSlice(after=after, cursor=max(head, after), entries=entries)


_FEED_SLICE_MODELS = [
    (
        FeedEntry,
        "f",
        (
            *_FEED_PAGE_MODELS[0][2],
            "audience_id",
            "audience_region",
            "not_to_id",
        ),
    )
]


@functools.cache
def _feed_slice_sql() -> str:
    q = connection.ops.quote_name
    return (
        f"SELECT {columns(_FEED_SLICE_MODELS)} FROM {q(FeedEntry._meta.db_table)} f "
        "WHERE f.seq > %s AND f.seq <= %s ORDER BY f.seq LIMIT %s"
    )


@functools.cache
def _feed_state_sql() -> str:
    q = connection.ops.quote_name
    return f"SELECT last_seq, floor_seq FROM {q(FeedState._meta.db_table)} WHERE id = 1"


@functools.cache
def _feed_page_sql() -> str:
    """Every pull's read, written once (what the ORM's ``filter(...).exclude(...)`` sent): entries
    after the cursor up to the head, addressed to everyone, to this store or to its region, not
    from this store and not about it (``not_to``), in feed order, at most ``limit``."""
    q = connection.ops.quote_name
    return (
        f"SELECT {columns(_FEED_PAGE_MODELS)} FROM {q(FeedEntry._meta.db_table)} f "
        "WHERE f.seq > %s AND f.seq <= %s"
        " AND ((f.audience_id IS NULL AND f.audience_region IS NULL) OR f.audience_id = %s"
        " OR (f.audience_id IS NULL AND f.audience_region = %s))"
        " AND f.origin <> %s AND (f.not_to_id IS NULL OR f.not_to_id <> %s)"
        " ORDER BY f.seq LIMIT %s"
    )


@dataclass(frozen=True)
class StoreHealth:
    store_code: str
    last_contact_at: datetime | None
    events_pending: int
    oldest_unsynced_at: datetime | None
    cursor_lag: int
    quarantined: int


def peers_last_contact(*, store) -> dict[str, str]:
    """``{store code: last contact (ISO 8601)}`` of every other store of its region that has reached
    head office: sent with the last page of a pull, so a store's look-up can say how old another
    store's stock figures are (their age is that store's last sync, not the time a movement
    happened). The region's only: those are the stores whose stock it holds."""
    store_id = StoreSyncState._meta.pk.get_db_prep_value(store.id, connections[DEFAULT_DB_ALIAS])
    rows = joined_rows(_peers_sql(), [store_id, store.region], _PEERS_MODELS)
    return {peer.code: state.last_contact_at.isoformat() for state, peer in rows}


_PEERS_MODELS = [(StoreSyncState, "st", ("store_id", "last_contact_at")), (Store, "s", ("id", "code"))]


@functools.cache
def _peers_sql() -> str:
    """The read of every last page of a pull, written once (the ORM compiled it on each)."""
    q = connection.ops.quote_name
    return (
        f"SELECT {columns(_PEERS_MODELS)} FROM {q(StoreSyncState._meta.db_table)} st "
        f"JOIN {q(Store._meta.db_table)} s ON s.id = st.store_id "
        "WHERE st.store_id <> %s AND s.region = %s AND st.last_contact_at IS NOT NULL ORDER BY s.code"
    )


def stores_health(*, store_ids=None) -> dict:
    """``{store_id: StoreHealth}`` of every store that has synced (or only ``store_ids``), in three
    queries whatever the number of stores: for the admin index."""
    head = FeedState.objects.filter(pk=1).values_list("last_seq", flat=True).first() or 0
    states = StoreSyncState.objects.select_related("store")
    quarantined = QuarantinedEvent.objects.filter(resolved_at__isnull=True)
    if store_ids is not None:
        states, quarantined = (
            states.filter(store_id__in=store_ids),
            quarantined.filter(store_id__in=store_ids),
        )
    held = dict(quarantined.values("store_id").annotate(n=Count("id")).values_list("store_id", "n"))
    return {
        state.store_id: StoreHealth(
            store_code=state.store.code,
            last_contact_at=state.last_contact_at,
            events_pending=max(0, state.store_head_seq - state.ack_seq),
            oldest_unsynced_at=state.oldest_unsynced_at,
            cursor_lag=max(0, head - state.pull_cursor),
            quarantined=held.get(state.store_id, 0),
        )
        for state in states
    }


def store_health(*, state: StoreSyncState) -> StoreHealth:
    head = FeedState.objects.filter(pk=1).values_list("last_seq", flat=True).first() or 0
    return StoreHealth(
        store_code=state.store.code,
        last_contact_at=state.last_contact_at,
        events_pending=max(0, state.store_head_seq - state.ack_seq),
        oldest_unsynced_at=state.oldest_unsynced_at,
        cursor_lag=max(0, head - state.pull_cursor),
        quarantined=QuarantinedEvent.objects.filter(
            store_id=state.store_id, resolved_at__isnull=True
        ).count(),
    )
