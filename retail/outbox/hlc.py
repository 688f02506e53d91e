"""Hybrid logical clock (Kulkarni et al., 2014) packed in one 64-bit integer.

``hlc = (wall-clock milliseconds << 16) | logical counter``. Values compare as plain integers, they
never go backwards at a node even if its wall clock does, and they stay within a few milliseconds of
real time while clocks are sane. Merge rules order concurrent writes by ``(hlc, origin)``.
"""

from __future__ import annotations

import time

LOGICAL_BITS = 16
LOGICAL_MASK = (1 << LOGICAL_BITS) - 1


class ClockSkewError(ValueError):
    """A remote clock reading is further ahead of ours than we are willing to trust."""


def pack(millis: int, logical: int = 0) -> int:
    return (millis << LOGICAL_BITS) | logical


def unpack(hlc: int) -> tuple[int, int]:
    return hlc >> LOGICAL_BITS, hlc & LOGICAL_MASK


def now_millis() -> int:
    return time.time_ns() // 1_000_000


def tick(last: int, millis: int | None = None) -> int:
    """The clock value for a local event after ``last``: strictly greater, never behind the wall clock."""
    wall = pack(now_millis() if millis is None else millis)
    return max(wall, last + 1)


def receive(last: int, remote: int, *, millis: int | None = None, max_skew_ms: int | None = None) -> int:
    """The clock value after learning of a remote event stamped ``remote``.

    Refuses (``ClockSkewError``) a remote stamp more than ``max_skew_ms`` ahead of our wall clock:
    trusting it would drag every later write of ours into the future.
    """
    wall_ms = now_millis() if millis is None else millis
    remote_ms, _ = unpack(remote)
    if max_skew_ms is not None and remote_ms - wall_ms > max_skew_ms:
        raise ClockSkewError(f"remote clock is {remote_ms - wall_ms} ms ahead (limit {max_skew_ms} ms)")
    return max(pack(wall_ms), last + 1, remote + 1)
