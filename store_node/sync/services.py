"""This store's sync: enroll once, push its outbox, pull the feed, load a snapshot.

Guarantees kept here (docs/sync-protocol.md):
- the pull cursor moves in the same transaction as the applies it covers, so a crash between
  apply and cursor cannot double-apply or skip;
- pushes resend from the cloud's acknowledgement; the cloud's ``seq_gap`` answer says where to
  resume, so a lost acknowledgement costs a resend, never a loss;
- batches are bounded in count and bytes and read from the database in chunks, so memory does
  not grow with the backlog.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
import orjson
from django.conf import settings
from django.db import transaction
from django.db.models import Max, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from retail.api_errors import DomainError
from retail.outbox.models import Event
from retail.outbox.services import clock_observe, node_origin
from retail.replication.appliers import ApplyContext, event_apply
from retail.replication.bulk import prices_set_bulk
from retail.replication.errors import ApplyRefused, quarantine_fields
from retail.replication.snapshot import SnapshotLoader
from retail.replication.wire import (
    CLOUD_ORIGIN,
    MAX_BATCH_BYTES,
    MAX_PULL_EVENTS,
    MAX_PUSH_EVENTS,
    envelope_parse,
)
from store_node.sync.client import SyncClient, SyncHttpError
from store_node.sync.models import PeerLastSync, PulledQuarantine, SyncCredential, SyncState

log = logging.getLogger(__name__)

# The cloud checked every relayed member write's clock at ingest; a store trusts the feed's stamps
# even if its own wall clock is wrong (an hour-slow till must still converge).
_TRUST_FEED_SKEW_MS = 1 << 62


def _clock_worth_observing(env) -> bool:
    """Whether a pulled event's stamp may move this store's clock: head office's own events and the
    member writes the cloud checked against its skew bound. Other stores' stock and points events
    carry their till's stamp unchecked (no merge rule orders by it); observing a day-fast till's
    stock movement would drag this store's clock a day ahead, and the cloud would then quarantine
    every member edit made here as clock skew."""
    return env.origin == CLOUD_ORIGIN or env.type.startswith("member.")


# As many events per batch as the protocol allows: the cloud applies a batch of sales set-based
# (retail/replication/bulk.py), some 5,000 events in well under a second, far within the timeout.
# A cloud that takes fewer says so (413 ``batch_too_large`` with ``max_events``) and gets fewer.
PUSH_BATCH_EVENTS = MAX_PUSH_EVENTS
# The batch's size is estimated from its payloads plus 200 bytes per envelope (its other fields
# take about 130), so 90 % of the protocol's bound leaves margin.
PUSH_BATCH_BYTES = MAX_BATCH_BYTES * 9 // 10
PUSH_TIMEOUT_S = 120.0

Progress = Callable[[str, int, int], None]  # (phase, done, total)


class SyncNotEnrolled(DomainError):
    status_code = 409
    code = "not_enrolled"


def _state() -> SyncState:
    state, _ = SyncState.objects.get_or_create(pk=1)
    return state


def sync_client(*, timeout: float = 30.0, transport=None) -> SyncClient:
    credential = SyncCredential.objects.filter(pk=1).first()
    if credential is None:
        raise SyncNotEnrolled("this store is not enrolled: run manage.py enroll --cloud URL --code CODE")
    return SyncClient(
        base_url=credential.cloud_url, token=credential.token, timeout=timeout, transport=transport
    )


def sync_enroll(*, cloud_url: str, code: str, transport=None) -> SyncCredential:
    """Redeem a one-time enrollment code at the cloud and keep the credential it returns."""
    with SyncClient(base_url=cloud_url, transport=transport) as client:
        answer = client.enroll(code=code)
    if answer["store_code"] != settings.STORE_CODE:
        raise DomainError(
            f"the code enrolls store {answer['store_code']}, but this node is {settings.STORE_CODE}",
            code="store_mismatch",
        )
    with transaction.atomic():
        credential, _ = SyncCredential.objects.update_or_create(
            pk=1,
            defaults={
                "cloud_url": cloud_url.rstrip("/"),
                "store_id": answer["store_id"],
                "store_code": answer["store_code"],
                "token": answer["credential"],
            },
        )
        _state()
    return credential


# ---------------------------------------------------------------- push


def local_head_seq() -> int:
    return Event.objects.filter(origin=node_origin()).aggregate(m=Max("seq"))["m"] or 0


def _push_batch(after: int, limit: int | None = None) -> list[dict]:
    """The next batch of own events after ``after``, as wire envelopes. Each payload is the JSON text
    the outbox holds, passed through as it is (``orjson.Fragment``): a catch-up reads 100,000 events,
    and decoding each payload only to encode it again took most of the store's time."""
    batch, size = [], 0
    events = (
        Event.objects.filter(origin=node_origin(), seq__gt=after)
        .order_by("seq")
        .values_list("id", "origin", "seq", "hlc", "type", "schema", Cast("payload", TextField()))
    )
    for event_id, origin, seq, hlc, type_, schema, payload in events[: limit or PUSH_BATCH_EVENTS]:
        size += len(payload) + 200  # the envelope around the payload is well under 200 bytes
        if batch and size > PUSH_BATCH_BYTES:
            break
        batch.append(
            {"id": str(event_id), "origin": origin, "seq": seq, "hlc": hlc, "type": type_, "schema": schema,
             "payload": orjson.Fragment(payload)}
        )  # fmt: skip
    return batch


def _oldest_unsynced(batch: list[dict]):
    if not batch:
        return None
    return (
        Event.objects.filter(origin=node_origin(), seq=batch[0]["seq"])
        .values_list("created_at", flat=True)
        .first()
    )


# Pushes in flight at once. The cloud applies one batch of a store at a time (its transaction holds
# the store's sync state row), so the second request waits there; meanwhile its body was sent,
# inflated and parsed, which a store catching up otherwise waits for after every acknowledgement.
PUSH_IN_FLIGHT = 2


@dataclass
class _Sent:
    batch: list[dict]
    answer: Future
    # Sent while an earlier batch was still unanswered: a seq_gap for it may only mean that it
    # reached the cloud before that one was applied, not that the cloud lost anything.
    behind: bool


def sync_push(*, client: SyncClient, progress: Progress | None = None, report_head: bool = True) -> int:
    """Push every unacknowledged own event in bounded batches; returns how many the cloud took.

    With nothing to send it still sends an empty batch when ``report_head``: the answer's ack tells
    the cloud's health page our head, and tells us if the cloud holds less than we thought (it was
    restored from a backup), in which case we rewind and send again. The worker reports its head so
    only every few minutes (``SyncWorker.report_every``): a store's next event would find the same,
    as a ``seq_gap`` naming where to resume, and a nudge need not cost a second request.

    Up to ``PUSH_IN_FLIGHT`` batches are in flight, each the one after the batch sent before it;
    the requests go out from worker threads (HTTP only: every database read and write stays on
    this thread and its connection). Answers are taken in the order sent, and nothing is recorded
    before an acknowledgement. The cloud decides by its ack alone, so a batch that arrives before
    the one ahead of it was applied is refused with ``seq_gap`` and applies nothing; it is sent
    again. When an answer is not a whole acknowledgement (an error, a partial or rewound ack), the
    batches behind it are waited for, their answers set aside, and the push goes on from what the
    cloud acknowledged.
    """
    state = _state()
    head = local_head_seq()
    if not report_head and state.pushed_seq >= head:
        return 0
    start, pushed, limit = state.pushed_seq, 0, PUSH_BATCH_EVENTS
    with ThreadPoolExecutor(max_workers=PUSH_IN_FLIGHT, thread_name_prefix="sync-push") as sender:
        in_flight: deque[_Sent] = deque()

        def send(batch: list[dict]) -> None:
            answer = sender.submit(
                client.push, events=batch, head_seq=head, oldest_unsynced_at=_oldest_unsynced(batch)
            )
            in_flight.append(_Sent(batch, answer, behind=bool(in_flight)))

        def fill() -> None:
            """Keep the pipe full: the next batch after the last one sent, while events wait."""
            while len(in_flight) < PUSH_IN_FLIGHT and in_flight and in_flight[-1].batch:
                after = in_flight[-1].batch[-1]["seq"]
                if after >= head:
                    return
                send(_push_batch(after, limit))

        def settle() -> None:
            """Wait for every batch still in flight; what they say is superseded by what comes next."""
            while in_flight:
                with contextlib.suppress(Exception):
                    in_flight.popleft().answer.result()

        def resend() -> None:
            settle()
            send(_push_batch(state.pushed_seq, limit) if state.pushed_seq < head else [])

        try:
            send(_push_batch(state.pushed_seq, limit) if state.pushed_seq < head else [])
            while True:
                fill()
                sent = in_flight.popleft()
                try:
                    answer = sent.answer.result()
                except SyncHttpError as exc:
                    expected = exc.body.get("expected_seq")
                    if exc.code == "seq_gap" and isinstance(expected, int):
                        if sent.behind and expected - 1 <= state.pushed_seq:
                            resend()  # it overtook the batch ahead of it, or that one was taken in part
                            continue
                        if expected - 1 < state.pushed_seq:
                            # The cloud holds less than we thought: resend from there.
                            state.pushed_seq = expected - 1
                            SyncState.objects.filter(pk=1).update(pushed_seq=state.pushed_seq)
                            resend()
                            continue
                    smaller = exc.body.get("max_events")
                    if (
                        exc.code == "batch_too_large"
                        and isinstance(smaller, int)
                        and 0 < smaller < len(sent.batch)
                    ):
                        limit = smaller  # a cloud that takes fewer per batch (an older release): send fewer
                        resend()
                        continue
                    raise
                ack = int(answer["ack_seq"])
                if ack > head:
                    raise DomainError(
                        f"the cloud acknowledges seq {ack} but this store's outbox ends at {head}: restored "
                        "from an old backup? Stop and call support; do not sell until resolved.",
                        code="ack_ahead_of_outbox",
                    )
                rewound = ack < state.pushed_seq
                pushed += max(0, ack - state.pushed_seq)
                state.pushed_seq = ack
                SyncState.objects.filter(pk=1).update(pushed_seq=ack)
                if progress:
                    progress("push", max(0, ack - start), max(0, head - start))
                if rewound:
                    resend()
                    continue
                if ack >= head or not sent.batch or ack < sent.batch[-1]["seq"]:
                    return pushed  # up to date, or the cloud took this batch in part: stop here
                if not in_flight:
                    send(_push_batch(ack, limit))
        finally:
            settle()


# ---------------------------------------------------------------- pull


@dataclass
class PullOutcome:
    applied: int = 0
    quarantined: int = 0
    up_to_date: bool = False


def _apply_page(events: list[dict], cursor: int) -> tuple[int, int]:
    """Apply one pulled page and move the cursor, in one transaction."""
    envs = [envelope_parse(raw) for raw in events]
    with transaction.atomic():
        return _apply_envelopes(envs, cursor)


def sync_socket_apply(*, after: int, cursor: int, events: list[dict]) -> bool | None:
    """Apply a slice of the feed that the nudge socket carried (docs/sync-protocol.md §3.6) as the
    pull from the store's cursor would: the events after that cursor, and the cursor moved to
    ``cursor``, in one transaction. True when applied, None when the store already had it all,
    False (nothing changed) when the store's cursor is below ``after``: it lacks entries before the
    slice, and must pull."""
    envs = [envelope_parse(raw) for raw in events]
    with _cycle_lock, transaction.atomic():
        state = SyncState.objects.filter(pk=1).values_list("pull_cursor", "snapshot_loaded_at").first()
        if state is None or (state[0] == 0 and state[1] is None):
            return False  # never synced: the first cycle loads a snapshot
        known = state[0]
        if known < after:
            return False
        if known >= cursor:
            return None
        _apply_envelopes([env for env in envs if (env.fseq or 0) > known], cursor)
    return True


def _apply_envelopes(envs, cursor: int) -> tuple[int, int]:
    """A page's events applied in order and the cursor moved, in the caller's transaction."""
    applied = quarantined = 0
    ctx = ApplyContext(max_skew_ms=_TRUST_FEED_SKEW_MS)
    newest = 0
    i = 0
    while i < len(envs):
        if envs[i].type == "price.set":
            # A run of prices (a catalog change reaches every store as thousands) goes set-based.
            j = i
            while j < len(envs) and envs[j].type == "price.set":
                j += 1
            done, one_by_one = prices_set_bulk(envs[i:j], ctx)
            applied += len(done)
            newest = max([newest, *(env.hlc for env in done if _clock_worth_observing(env))])
            i = j
        else:
            one_by_one, i = [envs[i]], i + 1
        a, q, newest = _apply_one_by_one(one_by_one, ctx, newest)
        applied, quarantined = applied + a, quarantined + q
    SyncState.objects.filter(pk=1).update(pull_cursor=cursor)
    if newest:
        clock_observe(remote_hlc=newest)
    return applied, quarantined


def _apply_one_by_one(envs, ctx, newest: int) -> tuple[int, int, int]:
    """Apply each event alone (in its savepoint); a refused one is kept in ``PulledQuarantine``.
    Returns (applied, quarantined, newest stamp worth observing)."""
    applied = quarantined = 0
    for env in envs:
        try:
            event_apply(env=env, ctx=ctx)
            applied += 1
            if _clock_worth_observing(env):
                newest = max(newest, env.hlc)
        except ApplyRefused as refused:
            quarantined += 1
            PulledQuarantine.objects.update_or_create(
                fseq=env.fseq or 0, defaults=quarantine_fields(env, refused)
            )
    return applied, quarantined, newest


def sync_pull(
    *, client: SyncClient, progress: Progress | None = None, max_pages: int | None = None
) -> PullOutcome:
    """Pull and apply the feed page by page until the cloud says there is no more."""
    outcome = PullOutcome()
    pages = 0
    while max_pages is None or pages < max_pages:
        cursor = _state().pull_cursor
        try:
            page = client.pull(cursor=cursor, limit=MAX_PULL_EVENTS, max_bytes=MAX_BATCH_BYTES)
        except SyncHttpError as exc:
            if exc.code == "cursor_expired":
                sync_snapshot_load(client=client, progress=progress)
                continue
            raise
        applied, quarantined = _apply_page(page["events"], int(page["cursor"]))
        if isinstance(page.get("stores_seen"), dict):
            peers_last_sync_record(page["stores_seen"])
        outcome.applied += applied
        outcome.quarantined += quarantined
        pages += 1
        if progress:
            progress("pull", outcome.applied + outcome.quarantined, 0)
        if not page["more"]:
            outcome.up_to_date = True
            break
    return outcome


def peers_last_sync_record(seen: dict) -> int:
    """Keep what head office said of the other stores' last contact (newer times only); returns
    how many were recorded. Values that are not times are ignored (the answer is advisory)."""
    times = {}
    for code, text in seen.items():
        at = parse_datetime(text) if isinstance(text, str) else None
        if isinstance(code, str) and 0 < len(code) <= 8 and at is not None:
            times[code] = at
    with transaction.atomic():
        known = dict(
            PeerLastSync.objects.filter(store_code__in=times).values_list("store_code", "last_contact_at")
        )
        newer = [
            PeerLastSync(store_code=c, last_contact_at=at)
            for c, at in times.items()
            if c not in known or at > known[c]
        ]
        PeerLastSync.objects.bulk_create(
            newer, update_conflicts=True, unique_fields=["store_code"], update_fields=["last_contact_at"]
        )
    recorded = len(newer)
    return recorded


def sync_snapshot_load(*, client: SyncClient, progress: Progress | None = None) -> dict[str, int]:
    """Load the cloud's snapshot for this store and continue the feed from its cursor (one transaction)."""
    with client.snapshot() as (header, rows), transaction.atomic():
        loader = SnapshotLoader(cursor=int(header["cursor"]))
        done, end = 0, None
        for row in rows:
            if row.get("t") == "end":
                end = row
                break
            loader.add(row)
            done += 1
            if progress and done % 5000 == 0:
                progress("snapshot", done, 0)
        # The cloud streams a snapshot while it writes it: one that stops short of its ``end`` row
        # (the cloud failed or the connection was cut) is rolled back here, never half loaded.
        if end is None or end.get("rows") != done:
            raise DomainError(
                f"the snapshot ended after {done} rows without its end"
                if end is None
                else f"the snapshot says {end.get('rows')} rows but held {done}",
                code="snapshot_incomplete",
            )
        counts = loader.finish()
        SyncState.objects.update_or_create(
            pk=1, defaults={"pull_cursor": int(header["cursor"]), "snapshot_loaded_at": timezone.now()}
        )
    return counts


# ---------------------------------------------------------------- one full cycle


@dataclass
class SyncSummary:
    pushed: int = 0
    pulled: int = 0
    quarantined: int = 0
    snapshot_rows: int = 0
    up_to_date: bool = False
    waiting: int = 0
    error: str = ""
    counts: dict = field(default_factory=dict)


_cycle_lock = threading.Lock()

# The worker's client, kept from one cycle to the next (under ``_cycle_lock``) so its connection
# to the cloud is reused while it is idle less than ``KEEPALIVE_S``: a store that syncs every 5 to
# 30 s and after each sale would otherwise open a TCP connection and a TLS handshake per cycle.
_kept: tuple[tuple, SyncClient] | None = None


@contextlib.contextmanager
def _cycle_client(*, timeout: float, transport, keep: bool):
    """The cycle's client: a new one closed at the end, or (``keep``) the kept one while the
    credential, timeout and transport are the same; a cycle that failed drops it."""
    global _kept
    if not keep:
        with sync_client(timeout=timeout, transport=transport) as client:
            yield client
        return
    credential = SyncCredential.objects.filter(pk=1).values_list("cloud_url", "token").first()
    key = (credential, timeout, id(transport) if transport is not None else None)
    if _kept is None or _kept[0] != key:
        sync_client_release()
        _kept = (key, sync_client(timeout=timeout, transport=transport))
    try:
        yield _kept[1]
    except BaseException:
        sync_client_release()
        raise


def sync_client_release() -> None:
    """Close the worker's kept client (the worker's thread as it ends; a failed cycle; a new
    credential)."""
    global _kept
    if _kept is not None:
        _kept[1].close()
        _kept = None


def sync_once(
    *,
    progress: Progress | None = None,
    timeout: float = PUSH_TIMEOUT_S,
    transport=None,
    pull: bool = True,
    report_head: bool = True,
    keep_connection: bool = False,
) -> SyncSummary:
    """One full push and pull cycle. ``up_to_date`` only when nothing of ours is unacknowledged
    and the cloud had nothing more for us at the end. ``pull=False`` pushes only (the worker after
    a local sale: what head office has for the store comes with the nudge or the next poll);
    ``up_to_date`` is then never set. ``report_head=False``: no empty push when nothing waits
    (``sync_push``). ``keep_connection``: the client and its connection stay for the next cycle
    (the worker; ``_cycle_client``)."""
    summary = SyncSummary()
    clock = None
    with _cycle_lock:
        SyncState.objects.update_or_create(pk=1, defaults={"last_attempt_at": timezone.now()})
        try:
            with _cycle_client(timeout=timeout, transport=transport, keep=keep_connection) as client:
                clock = client
                state = _state()
                pull = pull or (state.snapshot_loaded_at is None and state.pull_cursor == 0)
                if state.snapshot_loaded_at is None and state.pull_cursor == 0:
                    summary.counts = sync_snapshot_load(client=client, progress=progress)
                    summary.snapshot_rows = sum(summary.counts.values())
                summary.pushed = sync_push(client=client, progress=progress, report_head=report_head)
                summary.waiting = max(0, local_head_seq() - _state().pushed_seq)
                if pull:
                    pulled = sync_pull(client=client, progress=progress)
                    summary.pulled, summary.quarantined = pulled.applied, pulled.quarantined
                    summary.waiting = max(0, local_head_seq() - _state().pushed_seq)
                    summary.up_to_date = pulled.up_to_date and summary.waiting == 0
        except (httpx.HTTPError, SyncHttpError, DomainError) as exc:
            summary.error = f"{type(exc).__name__}: {exc}"
            summary.waiting = max(0, local_head_seq() - _state().pushed_seq)
        now = timezone.now()
        SyncState.objects.filter(pk=1).update(last_error=summary.error[:2000])
        if clock is not None and clock.clock_offset_s is not None:
            SyncState.objects.filter(pk=1).update(clock_offset_s=clock.clock_offset_s)
        if summary.up_to_date:
            SyncState.objects.filter(pk=1).update(last_success_at=now)
    return summary
