"""Process-wide tuning done once a node's Django is loaded."""

from __future__ import annotations

import gc


def startup_objects_freeze() -> None:
    """Put every object alive now (apps, models, URL resolvers, imported modules: hundreds of
    thousands of them, all living as long as the process) out of the cyclic collector's sight.

    Each full collection otherwise walks them all: on the cloud that was a sixth of the CPU spent on
    a sync batch (tests/benchmarks/sync_bench.py). Objects made later are collected as before."""
    gc.collect()
    gc.freeze()
