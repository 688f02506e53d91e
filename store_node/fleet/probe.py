"""CPU and memory of the cloud's processes, read from /proc (Linux), for the fleet's report."""

from __future__ import annotations

import os
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def cloud_pids() -> list[int]:
    """Daphne processes serving ``cloud.asgi`` on this machine (the production-shaped cloud's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"daphne" in b" ".join(cmdline) and b"cloud.asgi:application" in cmdline:
            found.append(int(entry.name))
    return sorted(found)


def _ticks_and_rss(pid: int) -> tuple[int, int] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        rss_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12]), rss_pages * PAGE


class CpuProbe:
    """Samples the given processes: CPU in % of one core since the last sample, and resident memory."""

    def __init__(self, pids: list[int]):
        self.pids = pids
        self.last: dict[int, int] = {}
        self.last_at = time.monotonic()
        self.first: dict[int, int] = {}
        self.first_at = self.last_at
        self.peak_rss = 0
        self.peak_cpu = 0.0
        for pid in pids:
            sample = _ticks_and_rss(pid)
            if sample:
                self.last[pid] = self.first[pid] = sample[0]

    def sample(self) -> dict:
        now = time.monotonic()
        ticks, rss = 0, 0
        used = 0
        for pid in self.pids:
            sample = _ticks_and_rss(pid)
            if sample is None:
                continue
            used += sample[0] - self.last.get(pid, sample[0])
            self.last[pid] = sample[0]
            ticks += sample[0]
            rss += sample[1]
        elapsed = max(1e-6, now - self.last_at)
        self.last_at = now
        cpu = 100.0 * used / TICKS / elapsed
        self.peak_cpu = max(self.peak_cpu, cpu)
        self.peak_rss = max(self.peak_rss, rss)
        return {"cpu_percent": round(cpu, 1), "rss_mb": round(rss / 2**20, 1)}

    def summary(self) -> dict:
        total = sum(self.last.get(p, 0) - self.first.get(p, 0) for p in self.pids)
        elapsed = max(1e-6, self.last_at - self.first_at)
        return {
            "pids": self.pids,
            "cpu_percent_mean": round(100.0 * total / TICKS / elapsed, 1),
            "cpu_percent_peak": round(self.peak_cpu, 1),
            "rss_mb_peak": round(self.peak_rss / 2**20, 1),
        }
