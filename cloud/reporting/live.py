"""Live dashboard nudges: after a transaction that changed the figures commits, tell the browsers."""

from __future__ import annotations

import threading

from django.db import transaction

from retail.broadcast import group_send_soon

GROUP = "reporting.live"

# Per thread (as database connections are): the (store, day) pairs changed by the open transaction.
_local = threading.local()


def _pending() -> set[tuple[str, str]]:
    if not hasattr(_local, "pending"):
        _local.pending = set()
    return _local.pending


def _flush() -> None:
    changed = sorted(_pending())
    _pending().clear()
    if not changed:
        return
    # Not waited for: the request that applied the sales answers (and returns its database
    # connection) without waiting for the server's event loop to send this.
    group_send_soon(
        GROUP, {"type": "figures.changed", "changes": [{"store_id": s, "day": d} for s, d in changed]}
    )


def live_notify(*, store_id, day) -> None:
    """Schedule one nudge for the dashboards when the current transaction commits."""
    _pending().add((str(store_id), day.isoformat()))
    connection = transaction.get_connection()
    # One nudge per commit, however many sales it applied. After a rollback the stale pairs ride
    # along with the next commit's nudge, which only makes a browser refresh once more.
    if not any(func is _flush for _, func, _ in connection.run_on_commit):
        transaction.on_commit(_flush)
