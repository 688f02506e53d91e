"""Reads of the sync app: credential look-up, the feed, and per-store health for admin."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, Q
from django.utils import timezone

from cloud.sync.models import FeedEntry, FeedState, QuarantinedEvent, StoreCredential, StoreSyncState
from retail.api_errors import DomainError
from retail.outbox.models import Event
from retail.replication.entitlement import SHARED_STATE_TYPES
from retail.replication.wire import CLOUD_ORIGIN, MAX_BATCH_BYTES, MAX_PULL_EVENTS, dumps


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def credential_authenticate(*, token: str) -> tuple[StoreCredential | None, tuple[str, str]]:
    """The active credential of a bearer token, or ``(None, (code, detail))``; constant-time compare."""
    key_id, _, secret = token.partition(".")
    credential = (
        StoreCredential.objects.select_related("store").filter(key_id=key_id).first() if secret else None
    )
    if credential is None or not hmac.compare_digest(credential.secret_hash, secret_hash(secret)):
        return None, ("credential_invalid", "The store credential is not valid.")
    if credential.revoked_at is not None:
        return None, ("credential_revoked", "The store credential was revoked; enroll the store again.")
    now = timezone.now()
    if credential.last_used_at is None or (now - credential.last_used_at).total_seconds() > 60:
        StoreCredential.objects.filter(pk=credential.pk).update(last_used_at=now)
    return credential, ("", "")


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
    head, floor = FeedState.objects.filter(pk=1).values_list("last_seq", "floor_seq").first() or (0, 0)
    if cursor < floor:
        raise DomainError(
            f"the feed before {floor} was pruned; load a snapshot", code="cursor_expired", status_code=410
        )
    rows = (
        FeedEntry.objects.filter(seq__gt=cursor, seq__lte=head)
        .filter(
            Q(audience__isnull=True, audience_region__isnull=True)
            | Q(audience_id=store.id)
            | Q(audience__isnull=True, audience_region=store.region)
        )
        .exclude(origin=store.code)
        .exclude(not_to_id=store.id)
        .order_by("seq")
        .values_list("seq", "event_id", "origin", "origin_seq", "hlc", "type", "schema", "payload")
    )
    events, size = [], 0
    # One fetch of at most ``limit`` rows (a bounded page), not a server-side cursor's three round trips.
    for seq, event_id, origin, origin_seq, hlc, type_, schema, payload in list(rows[:limit]):
        wire = {
            "id": str(event_id),
            "origin": origin,
            "seq": origin_seq,
            "hlc": hlc,
            "type": type_,
            "schema": schema,
            "payload": payload,
            "fseq": seq,
        }
        size += len(dumps(wire))
        events.append(wire)
        if size >= max_bytes:
            return FeedPage(events=events, cursor=seq, more=True)
    if len(events) >= limit:
        return FeedPage(events=events, cursor=events[-1]["fseq"], more=True)
    return FeedPage(events=events, cursor=max(head, cursor), more=False)


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
    rows = (
        StoreSyncState.objects.exclude(store=store)
        .filter(store__region=store.region)
        .filter(last_contact_at__isnull=False)
        .values_list("store__code", "last_contact_at")
    )
    return {code: at.isoformat() for code, at in rows}


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
