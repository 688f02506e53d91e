"""Starting a role's daphne server for a benchmark, the same way for every bench."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def daphne_start(
    application: str, *, port: int, env: dict[str, str], timeout: float = 30
) -> subprocess.Popen:
    """Start ``daphne`` on 127.0.0.1:``port`` serving ``application``; return once /api/health answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), application],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"daphne did not answer within {timeout:.0f} s")
