"""What the store's staff see of sync: online or not, events waiting, last successful sync."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Max
from django.utils import timezone

from retail.outbox.models import Event
from retail.outbox.services import node_origin
from store_node.sync.models import PulledQuarantine, SyncCredential, SyncState

# Considered online when the last full cycle succeeded this recently.
ONLINE_WITHIN = timedelta(minutes=2)
# A clock further off head office's than this is shown to staff: receipts carry wrong times, and
# beyond the cloud's bound (10 minutes ahead) the store's member edits are held in quarantine.
CLOCK_WARN_AFTER_S = 60


@dataclass(frozen=True)
class SyncStatus:
    enrolled: bool
    online: bool
    events_waiting: int
    oldest_waiting_at: datetime | None
    last_sync_at: datetime | None
    last_error: str
    pull_cursor: int
    quarantined: int
    clock_offset_s: int | None = None

    @property
    def clock_warning(self) -> str:
        """What staff should be told about this node's clock, or "" when it agrees with head office."""
        offset = self.clock_offset_s
        if offset is None or abs(offset) <= CLOCK_WARN_AFTER_S:
            return ""
        return f"Clock {_duration(abs(offset))} {'ahead of' if offset > 0 else 'behind'} head office: set the time"


def _duration(seconds: int) -> str:
    """About how long, in the largest unit it rounds to (3,599 s from a one-second ``Date`` is 1 h)."""
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        n = round(seconds / size)
        if n >= 1:
            return f"{n} {unit}{'s' if unit == 'day' and n > 1 else ''}"
    return f"{seconds} s"


def sync_status() -> SyncStatus:
    state = SyncState.objects.filter(pk=1).first() or SyncState()
    head = Event.objects.filter(origin=node_origin()).aggregate(m=Max("seq"))["m"] or 0
    oldest = (
        Event.objects.filter(origin=node_origin(), seq=state.pushed_seq + 1)
        .values_list("created_at", flat=True)
        .first()
    )
    online = (
        not state.last_error
        and state.last_success_at is not None
        and timezone.now() - state.last_success_at < ONLINE_WITHIN
    )
    return SyncStatus(
        enrolled=SyncCredential.objects.filter(pk=1).exists(),
        online=online,
        events_waiting=max(0, head - state.pushed_seq),
        oldest_waiting_at=oldest,
        last_sync_at=state.last_success_at,
        last_error=state.last_error,
        pull_cursor=state.pull_cursor,
        quarantined=PulledQuarantine.objects.count(),
        clock_offset_s=state.clock_offset_s,
    )


def sync_state_message(status: SyncStatus) -> dict:
    """What the tills' status bars show of the sync state, as a ``terminal.sync`` message."""
    return {
        "type": "terminal.sync",
        "online": status.online,
        "pending": status.events_waiting,
        "last_sync": status.last_sync_at.isoformat() if status.last_sync_at else None,
    }
