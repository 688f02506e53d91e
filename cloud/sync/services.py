"""Writes of the cloud's sync: enrollment, credentials, ingesting store batches, the feed, snapshots.

docs/sync-protocol.md is the specification; this module keeps its cloud-side guarantees:
- a store batch is applied in one transaction that also moves the store's ``ack_seq``, so an event
  is applied once however often it is sent;
- a batch must continue exactly at ``ack_seq + 1`` (events at or below it are duplicates);
- a poison event is quarantined and counted as consumed, so it never blocks the store's later events;
- feed positions are allocated under the ``FeedState`` row lock at the end of the transaction that
  writes the entries, so positions commit in order and a reader's cursor never skips a late commit.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import gzip
import os
import secrets
import tempfile
import threading
import uuid
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from cloud.sync.models import (
    EnrollmentCode,
    FeedEntry,
    FeedState,
    MemberMergeProposal,
    MergeOutcome,
    Oversell,
    PointsOverdraw,
    QuarantinedEvent,
    StoreCredential,
    StoreSyncState,
)
from cloud.sync.selectors import secret_hash
from cloud.sync.shared_state import points_changes_mark, stock_changes_mark
from retail.api_errors import DomainError, Invalid, PermissionRefused
from retail.broadcast import group_send_soon
from retail.dbcopy import pg_upserts_add, rows_insert
from retail.ids import new_id
from retail.members.models import Member
from retail.members.selectors import member_survivor_id
from retail.members.services import member_merge
from retail.outbox.models import Event
from retail.outbox.services import clock_observe
from retail.replication.appliers import ApplyContext, ApplyHooks, event_apply
from retail.replication.bulk import FACT_TYPES, BalancesLater, balances_flush, facts_apply_bulk, facts_parse
from retail.replication.entitlement import Audience, feed_audiences, nudges
from retail.replication.errors import ApplyRefused, quarantine_fields
from retail.replication.snapshot import SNAPSHOT_FORMAT, snapshot_rows
from retail.replication.wire import (
    CLOUD_ORIGIN,
    PROTOCOL_VERSION,
    Envelope,
    EnvelopeError,
    envelope_of_event,
    envelope_parse,
    snapshot_line,
)
from retail.sqlrows import columns, joined_row, row_update
from retail.stock.models import StockLevel
from retail.stock.services import stock_on_hand
from retail.stores.models import Store

NUDGE_GROUP = "sync.nudge"

# ---------------------------------------------------------------- enrollment and credentials


def _enrollment_hash(code: str) -> str:
    return secret_hash(code.replace("-", "").replace(" ", "").upper())


def enrollment_code_create(
    *, store: Store, valid_for: timedelta = timedelta(days=2)
) -> tuple[EnrollmentCode, str]:
    """A one-time enrollment code for ``store``; returns the row and the code, shown once."""
    raw = base64.b32encode(secrets.token_bytes(10)).decode()
    code = "-".join(raw[i : i + 4] for i in range(0, 16, 4))
    row = EnrollmentCode.objects.create(
        store=store, code_hash=_enrollment_hash(code), expires_at=timezone.now() + valid_for
    )
    return row, code


def store_enroll(*, code: str) -> tuple[Store, str]:
    """Redeem an enrollment code once: a new credential for its store, any older one revoked.

    Returns the store and the bearer token ``<key_id>.<secret>``; only the secret's hash is kept.
    """
    with transaction.atomic():
        row = (
            EnrollmentCode.objects.select_for_update()
            .select_related("store")
            .filter(code_hash=_enrollment_hash(code))
            .first()
        )
        if row is None or row.used_at is not None or row.expires_at <= timezone.now():
            raise PermissionRefused(
                "This enrollment code is unknown, used or expired.", code="enrollment_refused"
            )
        now = timezone.now()
        row.used_at = now
        row.save(update_fields=["used_at"])
        StoreCredential.objects.filter(store=row.store, revoked_at__isnull=True).update(revoked_at=now)
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        StoreCredential.objects.create(store=row.store, key_id=key_id, secret_hash=secret_hash(secret))
        StoreSyncState.objects.get_or_create(store=row.store)
    return row.store, f"{key_id}.{secret}"


def credential_revoke(*, credential: StoreCredential) -> None:
    StoreCredential.objects.filter(pk=credential.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


# ---------------------------------------------------------------- the feed


def _feed_state() -> None:
    FeedState.objects.get_or_create(pk=1)


def _feed_advance(n: int, lift: int | None) -> int | None:
    """Take ``n`` feed positions (this takes the feed lock) and, unless ``lift`` is None, move
    ``nudge_seq`` to ``lift`` below the new head; returns the new head (None: no state row yet).
    One statement on PostgreSQL (``UPDATE ... RETURNING``)."""
    nudge = F("last_seq") + n - lift if lift is not None else F("nudge_seq")
    if connection.vendor != "postgresql":
        if not FeedState.objects.filter(pk=1).update(last_seq=F("last_seq") + n, nudge_seq=nudge):
            return None
        return FeedState.objects.filter(pk=1).values_list("last_seq", flat=True).get()
    with connection.cursor() as cursor:
        cursor.execute(_feed_advance_sql(), [n, lift is not None, n - (lift or 0)])
        row = cursor.fetchone()
    return row[0] if row else None


@functools.cache
def _feed_advance_sql() -> str:
    # SET's right-hand sides read the row as it was: ``nudge_seq`` is the old head plus n - lift.
    return (
        f"UPDATE {connection.ops.quote_name(FeedState._meta.db_table)} SET last_seq = last_seq + %s, "
        "nudge_seq = CASE WHEN %s THEN last_seq + %s ELSE nudge_seq END WHERE id = 1 RETURNING last_seq"
    )


_FEED_FIELDS = (
    "seq",
    "event_id",
    "origin",
    "origin_seq",
    "hlc",
    "type",
    "schema",
    "payload",
    "audience_id",
    "audience_region",
    "not_to_id",
    "created_at",
)


def _feed_append(entries: list[tuple[Envelope, Audience]]) -> bool:
    """Give ``entries`` the next feed positions. Call last in the transaction: it takes the feed lock.

    Returns whether any of them wakes the stores (``entitlement.nudges``); the feed's ``nudge_seq``
    then moves to the last such position in the same update, and the nudge watchers see it.
    """
    if not entries:
        return False
    waking = [i for i, (env, audience) in enumerate(entries) if nudges(env, audience)]
    n = len(entries)
    # The last waking entry sits ``lift`` positions below the new head.
    lift = n - waking[-1] - 1 if waking else None
    last = _feed_advance(n, lift)
    if last is None:  # a cloud whose feed never moved has no state row yet
        _feed_state()
        last = _feed_advance(n, lift)
    first = last - n + 1
    now = timezone.now()
    rows_insert(
        FeedEntry,
        _FEED_FIELDS,
        (
            (
                first + i,
                env.id,
                env.origin,
                env.seq,
                env.hlc,
                env.type,
                env.schema,
                env.payload,
                audience.store_id,
                audience.region,
                audience.not_store_id,
                now,
            )
            for i, (env, audience) in enumerate(entries)
        ),
    )


def feed_publish_cloud(*, limit: int = 5000) -> int:
    """Copy head office's new outbox events into the feed (idempotent; returns how many were copied).

    The cloud outbox's ``seq`` is a safe cursor (allocated under a row lock in commit order), so
    reading ``seq > published_cloud_seq`` never misses an event that commits late.
    """
    with connection.cursor() as cursor:  # one fixed query, mostly (every pull asks)
        cursor.execute(_cloud_unpublished_sql(), [CLOUD_ORIGIN])
        if cursor.fetchone() is None:
            return 0
    _feed_state()
    copied = 0
    with transaction.atomic():
        FeedState.objects.filter(pk=1).update(last_seq=F("last_seq"))  # the feed lock
        published = FeedState.objects.filter(pk=1).values_list("published_cloud_seq", flat=True).get()
        events = list(Event.objects.filter(origin=CLOUD_ORIGIN, seq__gt=published).order_by("seq")[:limit])
        if events:
            envs = [envelope_of_event(e) for e in events]
            entries = [(env, aud) for env in envs for aud in feed_audiences(env)]
            _feed_append(entries)
            FeedState.objects.filter(pk=1).update(published_cloud_seq=events[-1].seq)
            copied = len(entries)
    return copied


@functools.cache
def _cloud_unpublished_sql() -> str:
    q = connection.ops.quote_name
    return (
        f"SELECT 1 FROM {q(Event._meta.db_table)} WHERE origin = %s AND seq > "
        f"COALESCE((SELECT published_cloud_seq FROM {q(FeedState._meta.db_table)} WHERE id = 1), 0) LIMIT 1"
    )


def stores_nudge() -> None:
    """Tell connected stores there is more for them (after commit; best effort, polling backs it up;
    not waited for: ``retail.broadcast``)."""
    group_send_soon(NUDGE_GROUP, {"type": "sync.more"})


# ---------------------------------------------------------------- ingesting a store's batch


class CloudHooks(ApplyHooks):
    """Head office's extra bookkeeping, in the apply transaction.

    With ``defer_rollups`` the applied sales are rolled up together by ``rollups_flush()`` (one
    upsert per rollup table for a whole batch); the caller must flush before its transaction ends.
    """

    def __init__(self, *, defer_rollups: bool = False, stores=()):
        self.defer_rollups = defer_rollups
        self.stores = {store.id: store for store in stores}  # already read: the rollups need their time zone
        self.sales: list = []
        self.lines_of: dict = {}
        self.tenders_of: dict = {}
        # Levels and balances this apply moved, marked for head office's next publication of them
        # to the other stores (cloud.sync.shared_state), by ``marks_flush()``.
        self.levels_moved: set[tuple] = set()
        self.balances_moved: set = set()
        self.shared_rollups: list = []  # PostgreSQL: the chain-wide rollups' upserts, kept

    def marks_flush(self) -> None:
        """Mark the levels and balances the batch moved for head office's next publication; call it
        after the apply's last use of head office's clock (lock order: ``shared_state``)."""
        levels, balances = self.levels_moved, self.balances_moved
        self.levels_moved, self.balances_moved = set(), set()
        stock_changes_mark(levels)
        points_changes_mark(balances)

    def sale_applied(self, *, sale, env, lines=None, tenders=None):
        if sale.store_id in self.stores:
            sale.store = self.stores[sale.store_id]
        self.sales.append(sale)
        if lines is not None and tenders is not None:
            # The rollups count lines not voided and tenders approved.
            self.lines_of[sale.id] = [(product, quantity, total) for product, quantity, total, voided in lines
                                      if not voided]  # fmt: skip
            self.tenders_of[sale.id] = [(kind, amount, change) for kind, amount, change, ok in tenders if ok]
        if not self.defer_rollups:
            self.rollups_flush()

    def rollups_flush(self, *, shared: bool = True) -> None:
        """Count the applied sales into the rollups. ``shared=False`` keeps the chain-wide rows,
        which every store's pushes share, for ``shared_rollups_flush`` (PostgreSQL; SQLite writes
        them at once)."""
        from cloud.reporting.services import sales_rollup_record_many

        sales, self.sales = self.sales, []
        lines_of, tenders_of, self.lines_of, self.tenders_of = self.lines_of, self.tenders_of, {}, {}
        sales_rollup_record_many(
            sales=sales, lines_of=lines_of, tenders_of=tenders_of, shared_later=self.shared_rollups
        )
        if shared:
            self.shared_rollups_flush()

    def shared_rollups_flush(self) -> None:
        statements, self.shared_rollups = self.shared_rollups, []
        pg_upserts_add(statements)

    def stock_moved(self, *, store_id, product_id, env):
        self.levels_moved.add((store_id, product_id))
        on_hand = stock_on_hand(store_id=store_id, product_id=product_id)
        if on_hand < 0 and str(env.payload.get("quantity", env.payload.get("difference", "0"))).startswith(
            "-"
        ):
            Oversell.objects.create(
                store_id=store_id, product_id=product_id, on_hand=on_hand, origin=env.origin, seq=env.seq
            )

    def stock_levels_moved(self, *, moved, levels=None):
        self.levels_moved.update(moved)
        if levels is None:
            levels = dict(
                (((store, product), on_hand) for store, product, on_hand in StockLevel.objects.filter(
                    product_id__in={product for _store, product in moved}, on_hand__lt=0
                ).values_list("store_id", "product_id", "on_hand"))
            )  # fmt: skip
        now = timezone.now()
        rows_insert(
            Oversell,
            ("id", "store_id", "product_id", "on_hand", "origin", "seq", "created_at", "resolved_at"),
            (
                (new_id(), store, product, on_hand, env.origin, env.seq, now, None)
                for (store, product), on_hand in levels.items()
                if on_hand < 0
                and (env := moved.get((store, product))) is not None
                and str(env.payload.get("quantity", "0")).startswith("-")
            ),
        )

    def points_posted(self, *, member_id, env):
        # Points posted to a merged card count on its survivor: that is the balance that may overdraw.
        survivor_id = member_survivor_id(member_id=member_id)
        self.balances_moved.add(survivor_id)
        balance = Member.objects.filter(pk=survivor_id).values_list("points_balance", flat=True).get()
        if balance < 0 and env.payload.get("points", 0) < 0:
            PointsOverdraw.objects.create(
                member_id=survivor_id, balance=balance, origin=env.origin, seq=env.seq
            )

    def points_balances_moved(self, *, posted):
        self.balances_moved.update(survivor_id for _member_id, survivor_id, _balance, _env in posted)
        PointsOverdraw.objects.bulk_create(
            [
                PointsOverdraw(member_id=survivor_id, balance=balance, origin=env.origin, seq=env.seq)
                for _member_id, survivor_id, balance, env in posted
                if balance < 0 and env.payload.get("points", 0) < 0
            ]
        )

    def member_created(self, *, member, env):
        for name in ("phone", "email"):
            value = getattr(member, name)
            if not value:
                continue
            others = (
                Member.objects.filter(**{name: value}, merged_into__isnull=True)
                .exclude(pk=member.pk)
                .values_list("pk", flat=True)
            )
            for other in others:
                MemberMergeProposal.objects.create(member_id=other, duplicate=member, matched_on=name)


@dataclass
class PushResult:
    ack_seq: int
    applied: int = 0
    duplicates: int = 0
    quarantined: list[dict] = field(default_factory=list)


def _parse_batch(*, store: Store, raw_events: Iterable) -> list[Envelope]:
    try:
        envs = [envelope_parse(raw) for raw in raw_events]
    except EnvelopeError as exc:
        raise Invalid(f"malformed event: {exc}", code="invalid_envelope") from exc
    for env in envs:
        if env.origin != store.code:
            raise PermissionRefused(
                f"this credential belongs to {store.code}; it may not push events of {env.origin!r}",
                code="origin_mismatch",
            )
    for i, env in enumerate(envs[1:], start=1):
        if env.seq != envs[0].seq + i:
            raise Invalid("a batch must hold consecutive seq numbers in order", code="batch_not_contiguous")
    return envs


# Which member rows an event moves, by the payload keys that name them.
_MEMBER_KEYS = {
    "points.posted": ("member_id",),
    "sale.completed": ("member_id",),
    "member.updated": ("id",),
    "member.merged": ("id", "survivor_id"),
}


def _members_first(envs: list[Envelope]) -> bool:
    """Whether the batch's member rows are locked before any of it applies (``_members_lock``);
    else its balances wait for the end of the transaction (``balances_flush``).

    A batch of facts alone (sales, stock movements, points: nearly every push) moves balances by
    sums, which the set-based path adds in one statement in id order; it waits, so the member rows
    every store shares stay locked for the last moments of a push, not all of it (with every
    member locked first, 500 stores' pushes after an outage ran one at a time). A batch that also
    edits or merges members applies them one by one, in seq order: its rows are locked first."""
    return connection.vendor != "sqlite" and any(
        env.type in _MEMBER_KEYS and env.type not in FACT_TYPES for env in envs
    )


def _members_lock(envs: list[Envelope]) -> None:
    """Lock every existing member row the batch moves, in id order, before any of it applies.

    Two stores' batches posting points to the same members in opposite orders would otherwise each
    hold one row the other waits for (PostgreSQL breaks that with ``DeadlockDetected``). A merged
    member's survivor is locked too: its balance is the one that moves. SQLite's one writer already
    serializes whole batches."""
    ids = set()
    for env in envs:
        for key in _MEMBER_KEYS.get(env.type, ()):
            with contextlib.suppress(TypeError, ValueError, AttributeError):
                ids.add(uuid.UUID(str(env.payload.get(key))))
    if not ids:
        return
    ids |= set(
        Member.objects.filter(id__in=ids, merged_into__isnull=False).values_list("merged_into", flat=True)
    )
    list(Member.objects.filter(id__in=ids).order_by("id").select_for_update().values_list("id", flat=True))


_STATE = [(StoreSyncState, "st")]
_PUSH_STATE_FIELDS = ("ack_seq", "last_push_at", "store_head_seq", "oldest_unsynced_at", "last_contact_at")


@functools.cache
def _state_lock_sql() -> str:
    """A push's first statement, written once (the ORM compiled it on every push: 192 of 1,735
    GIL samples of both cloud workers under the 500-store fleet, py-spy)."""
    q = connection.ops.quote_name
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""  # SQLite: one writer
    return f"SELECT {columns(_STATE)} FROM {q(StoreSyncState._meta.db_table)} st WHERE st.{q('store_id')} = %s{lock}"


def _state_lock(store: Store) -> StoreSyncState | None:
    """The store's sync state, locked until the transaction ends (None before its first push)."""
    key = StoreSyncState._meta.pk.get_db_prep_value(store.id, connection)
    row = joined_row(_state_lock_sql(), [key], _STATE)
    return None if row is None else row[0]


def sync_push_ingest(
    *, store: Store, raw_events: list, head_seq: int | None = None, oldest_unsynced_at=None
) -> PushResult:
    """Apply a store's batch once, in order, and return the acknowledgement.

    Invariant: ``StoreSyncState.ack_seq`` is moved in the same transaction as the applies it
    acknowledges. Events at or below it are duplicates (ignored); the first new event must be
    ``ack_seq + 1`` or the batch is refused with ``seq_gap`` naming the expected seq.
    """
    envs = _parse_batch(store=store, raw_events=raw_events)
    max_skew = getattr(settings, "SYNC_MAX_CLOCK_SKEW_MS", None)
    hooks = CloudHooks(defer_rollups=True, stores=[store])
    ctx = ApplyContext(hooks=hooks, origin_store_id=store.id)
    if max_skew is not None:
        ctx.max_skew_ms = max_skew
    # Before the store's lock: a store keeps two pushes in flight, and the one behind is parsed
    # while the one ahead is applied.
    parsed_ahead = facts_parse(envs, ctx)
    with transaction.atomic():
        state = _state_lock(store)
        if state is None:  # the store's first push
            StoreSyncState.objects.get_or_create(store=store)
            state = _state_lock(store)
        fresh = [env for env in envs if env.seq > state.ack_seq]
        result = PushResult(ack_seq=state.ack_seq, duplicates=len(envs) - len(fresh))
        if fresh and fresh[0].seq != state.ack_seq + 1:
            raise DomainError(
                f"expected seq {state.ack_seq + 1}, the batch starts at {fresh[0].seq}",
                code="seq_gap",
                expected_seq=state.ack_seq + 1,
            )
        if _members_first(fresh):
            _members_lock(fresh)
        else:
            ctx.balances_later = BalancesLater()
        published: list[tuple[Envelope, Audience]] = []
        newest_trusted = 0

        def quarantine(env: Envelope, refused: ApplyRefused) -> None:
            QuarantinedEvent.objects.create(store=store, **quarantine_fields(env, refused))
            result.quarantined.append({"seq": env.seq, "reason": refused.reason, "detail": refused.detail})

        def applied(env: Envelope) -> None:
            result.applied += 1
            published.extend((env, audience) for audience in feed_audiences(env))

        i = 0
        while i < len(fresh):
            if fresh[i].type in FACT_TYPES:
                # A run of sales, stock movements and points (most of a store's traffic) goes set-based.
                j = i
                while j < len(fresh) and fresh[j].type in FACT_TYPES:
                    j += 1
                done, left = facts_apply_bulk(fresh[i:j], ctx, parsed=parsed_ahead)
                for env in done:
                    applied(env)
                one_by_one, i = left, j
            else:
                one_by_one, i = [fresh[i]], i + 1
            if one_by_one:
                balances_flush(ctx)  # what an event applied one by one reads is up to date
            for env in one_by_one:
                try:
                    event_apply(env=env, ctx=ctx)
                except ApplyRefused as refused:
                    quarantine(env, refused)
                    continue
                applied(env)
                if env.type.startswith("member."):
                    newest_trusted = max(newest_trusted, env.hlc)
        hooks.rollups_flush(shared=False)
        now = timezone.now()
        if fresh:
            state.ack_seq = fresh[-1].seq
            state.last_push_at = now
        state.store_head_seq = max(state.store_head_seq, head_seq or 0, state.ack_seq)
        state.oldest_unsynced_at = oldest_unsynced_at if state.store_head_seq > state.ack_seq else None
        state.last_contact_at = now
        row_update(state, _PUSH_STATE_FIELDS)  # not the pull's cursor, which a pull moves
        if newest_trusted:
            # Head office's next edit of these members must order after what it has just learnt.
            clock_observe(remote_hlc=newest_trusted, max_skew_ms=ctx.max_skew_ms)
        # Last, the rows every store's pushes share, each set in key order, the sets in this order
        # (docs/sync-protocol.md, "Row locks"): they stay locked only until the commit just after.
        balances_flush(ctx)
        hooks.marks_flush()
        hooks.shared_rollups_flush()
        if _feed_append(published):
            transaction.on_commit(stores_nudge)
        result.ack_seq = state.ack_seq
    return result


def quarantine_retry(*, item: QuarantinedEvent) -> bool:
    """Apply a quarantined event again (after an upgrade or a fix); True when it now applied."""
    env = Envelope(item.event_id, item.origin, item.seq, item.hlc, item.type, item.schema, item.payload)
    _feed_state()
    with transaction.atomic():
        hooks = CloudHooks()
        try:
            event_apply(env=env, ctx=ApplyContext(hooks=hooks, origin_store_id=item.store_id))
            hooks.marks_flush()
        except ApplyRefused as refused:
            QuarantinedEvent.objects.filter(pk=item.pk).update(reason=refused.reason, detail=refused.detail)
            return False
        QuarantinedEvent.objects.filter(pk=item.pk).update(resolved_at=timezone.now())
        if _feed_append([(env, audience) for audience in feed_audiences(env)]):
            transaction.on_commit(stores_nudge)
    return True


# ---------------------------------------------------------------- duplicate members


def member_merge_proposal_accept(*, proposal: MemberMergeProposal, survivor_id, by) -> Member:
    """Head office merges a proposal's two members, keeping ``survivor_id`` (either of the two).

    One transaction: the merge and its ``member.merged`` event (``retail.members.services.member_merge``),
    this proposal resolved as merged, and the other open proposals naming the loser moved to the
    survivor (or resolved, when they paired the loser with the survivor). Refused (409
    ``proposal_resolved``) once decided, and (400 ``survivor_invalid``) for a third member.
    """
    try:
        survivor_id = uuid.UUID(str(survivor_id))
    except ValueError as exc:
        raise Invalid("choose the member that survives", code="survivor_invalid") from exc
    with transaction.atomic():
        proposal = MemberMergeProposal.objects.select_for_update().get(pk=proposal.pk)
        if proposal.resolved_at is not None:
            raise DomainError("this proposal was already decided", code="proposal_resolved")
        pair = {proposal.member_id, proposal.duplicate_id}
        if survivor_id not in pair:
            raise Invalid("the survivor must be one of the proposal's two members", code="survivor_invalid")
        (loser_id,) = pair - {survivor_id}
        members = Member.objects.in_bulk(pair)
        survivor = member_merge(
            loser=members[loser_id], survivor=members[survivor_id], by=getattr(by, "username", "")
        )
        now = timezone.now()
        MemberMergeProposal.objects.filter(pk=proposal.pk).update(
            resolved_at=now, outcome=MergeOutcome.MERGED, survivor=survivor, resolved_by=by
        )
        for other in MemberMergeProposal.objects.filter(resolved_at__isnull=True).filter(
            Q(member_id=loser_id) | Q(duplicate_id=loser_id)
        ):
            a, b = (survivor.pk if m == loser_id else m for m in (other.member_id, other.duplicate_id))
            same = a == b or (
                MemberMergeProposal.objects.filter(resolved_at__isnull=True)
                .filter(Q(member_id=a, duplicate_id=b) | Q(member_id=b, duplicate_id=a))
                .exclude(pk=other.pk)
                .exists()
            )
            if same:
                MemberMergeProposal.objects.filter(pk=other.pk).update(
                    resolved_at=now, outcome=MergeOutcome.MERGED, survivor=survivor, resolved_by=by
                )
            else:
                MemberMergeProposal.objects.filter(pk=other.pk).update(member_id=a, duplicate_id=b)
    return survivor


def member_merge_proposal_dismiss(*, proposal: MemberMergeProposal, by) -> None:
    """Head office says the two are different people: the proposal is closed, nothing else changes."""
    MemberMergeProposal.objects.filter(pk=proposal.pk, resolved_at__isnull=True).update(
        resolved_at=timezone.now(), outcome=MergeOutcome.DISMISSED, resolved_by=by
    )


def sync_pull_record(*, store: Store, cursor: int) -> None:
    """Remember how far the store says it has applied the feed (for the cursor-lag figure).

    Bookkeeping for admin's health figures: written when the cursor moved or the last write is
    10 s old, so a store polling with nothing new does not cost a commit every time. One fixed
    statement (every pull runs it; the ORM compiled its conditions each time)."""
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    store_id = StoreSyncState._meta.pk.get_db_prep_value(store.id, connection)
    with connection.cursor() as db_cursor:
        db_cursor.execute(
            _pull_record_sql(),
            [cursor, adapt(now), adapt(now), store_id, cursor, adapt(now - timedelta(seconds=10))],
        )


@functools.cache
def _pull_record_sql() -> str:
    table = connection.ops.quote_name(StoreSyncState._meta.db_table)
    return (
        f"UPDATE {table} SET pull_cursor = %s, last_pull_at = %s, last_contact_at = %s "
        "WHERE store_id = %s AND (pull_cursor <> %s OR last_pull_at IS NULL OR last_pull_at < %s)"
    )


# ---------------------------------------------------------------- snapshots


class SnapshotFile:
    """A snapshot written into a temporary file by one thread while another streams it out.

    The writer publishes how many bytes it has flushed; the reader sends what is published and
    waits for more. The file, not memory, holds what the reader has not sent yet, so memory stays
    flat however slowly the store reads; the database transaction ends as soon as the last row is
    written, not when the store has read it all."""

    def __init__(self):
        self.file = tempfile.TemporaryFile()
        self.cursor: int | None = None
        self.rows = 0
        self.size = 0  # bytes flushed to the file and safe to read
        self.done = False
        self.error: BaseException | None = None
        self.cancelled = False
        self._changed = threading.Condition()
        self.started = threading.Event()  # the cursor is known (or the build failed)
        self.failed_early = False  # the build failed before the cursor was known: nothing to stream

    def publish(self, *, done: bool = False) -> None:
        self.file.flush()
        with self._changed:
            self.size = self.file.tell()
            self.done = done
            self._changed.notify_all()

    def fail(self, error: BaseException) -> None:
        with self._changed:
            self.error = error
            self.failed_early = not self.started.is_set()
            self._changed.notify_all()
        self.started.set()

    def read(self, offset: int, size: int = 256 * 1024) -> bytes:
        """Up to ``size`` bytes from ``offset``, waiting while the writer is behind; b"" at the end.
        A failed build raises its error here: the response is cut short, and a store never takes a
        snapshot without its ``end`` row."""
        with self._changed:
            while self.size <= offset and not self.done and self.error is None:
                self._changed.wait(5.0)
            if self.error is not None:
                raise RuntimeError("the snapshot could not be written") from self.error
            end = self.size
        return os.pread(self.file.fileno(), min(size, end - offset), offset) if end > offset else b""

    def close(self) -> None:
        """The reader is gone: the writer stops at its next chunk, and the file goes when both are."""
        with self._changed:
            self.cancelled = True
            writing = not self.done and self.error is None and self.started.is_set()
        if not writing:
            self.file.close()


class _SnapshotCancelled(Exception):
    pass


def _snapshot_write(*, store: Store, snap: SnapshotFile, attempts: int) -> None:
    """Write the store's snapshot into ``snap``: one transaction (REPEATABLE READ on PostgreSQL, the
    write lock on SQLite) reads the cursor and every row, so the snapshot equals the feed applied up
    to the cursor. The cursor is published (``snap.started``) before the rows."""
    _feed_state()  # a cloud whose feed never moved has no state row yet
    for _ in range(attempts):
        feed_publish_cloud()
        # The isolation level can only be set as the transaction's first statement: when called
        # inside a caller's transaction (a test's), that transaction's snapshot is the one we get.
        outermost = not connection.in_atomic_block
        with transaction.atomic():
            if connection.vendor == "postgresql" and outermost:
                with connection.cursor() as cur:
                    cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            state = FeedState.objects.get(pk=1)
            if Event.objects.filter(origin=CLOUD_ORIGIN, seq__gt=state.published_cloud_seq).exists():
                continue  # head office changed something in between: publish it first
            snap.cursor = state.last_seq
            snap.started.set()
            rows = 0
            with gzip.GzipFile(fileobj=snap.file, mode="wb", compresslevel=5) as gz:
                header = {"t": "header", "format": SNAPSHOT_FORMAT, "protocol": PROTOCOL_VERSION}
                gz.write(snapshot_line({**header, "cursor": state.last_seq, "store": store.code}))
                # Closed here, not when collected: an abandoned query's cursor would be closed by
                # the garbage collector after this thread closed its connection.
                with contextlib.closing(snapshot_rows(store_id=store.id)) as all_rows:
                    for row in all_rows:
                        gz.write(snapshot_line(row))
                        rows += 1
                        if rows % 5000 == 0:
                            if snap.cancelled:
                                raise _SnapshotCancelled
                            gz.flush(zlib.Z_SYNC_FLUSH)  # the reader may send what is compressed so far
                            snap.publish()
                gz.write(snapshot_line({"t": "end", "rows": rows}))
            snap.rows = rows
            snap.publish(done=True)
            return
    raise DomainError("head office is too busy to take a consistent snapshot; retry", code="snapshot_busy")


def snapshot_start(*, store: Store, attempts: int = 5) -> SnapshotFile:
    """Begin writing the store's snapshot and return it as soon as its cursor is known; the rows
    follow into ``SnapshotFile`` while the caller streams it (the build overlaps the store's load).

    The rows are written by a thread with its own database connection. Inside a caller's
    transaction (a test's) that connection could not see the caller's rows, so there the snapshot
    is written in full first, in the caller's transaction."""
    snap = SnapshotFile()
    if connection.in_atomic_block:
        try:
            _snapshot_write(store=store, snap=snap, attempts=attempts)
        except BaseException:
            snap.file.close()
            raise
        return snap

    def write() -> None:
        try:
            _snapshot_write(store=store, snap=snap, attempts=attempts)
        except _SnapshotCancelled:
            snap.fail(DomainError("the store stopped reading the snapshot", code="snapshot_cancelled"))
        except BaseException as exc:  # the reader raises it
            snap.fail(exc)
        finally:
            connection.close()  # this thread's own connection
            with snap._changed:
                orphaned = snap.cancelled
            if orphaned:
                snap.file.close()

    threading.Thread(target=write, name=f"snapshot-{store.code}", daemon=True).start()
    snap.started.wait()
    with snap._changed:
        failed_early = snap.failed_early
    if failed_early:  # no cursor, no response; a later failure cuts the stream short instead
        snap.file.close()
        raise snap.error
    return snap


def feed_prune(*, older_than: timedelta) -> int:
    """Delete feed entries older than ``older_than`` and raise the floor: a store whose cursor is
    below it gets ``cursor_expired`` and reloads a snapshot. Returns how many entries went."""
    _feed_state()
    cutoff = timezone.now() - older_than
    with transaction.atomic():
        FeedState.objects.filter(pk=1).update(last_seq=F("last_seq"))  # the feed lock
        last_old = (
            FeedEntry.objects.filter(created_at__lt=cutoff)
            .order_by("-seq")
            .values_list("seq", flat=True)
            .first()
        )
        if last_old is None:
            return 0
        deleted, _ = FeedEntry.objects.filter(seq__lte=last_old).delete()
        FeedState.objects.filter(pk=1, floor_seq__lt=last_old).update(floor_seq=last_old)
    return deleted
