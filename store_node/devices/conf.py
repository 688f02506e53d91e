"""The device workers' knobs, each a Django setting with the default below (store_node/settings/base.py
reads them from the environment). Seconds everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # How often the print worker looks for due jobs when nothing woke it.
    "PRINT_POLL_SECONDS": 0.5,
    # A job in `printing` longer than this is taken to be orphaned by a dead worker and printed again.
    "PRINT_LEASE_SECONDS": 60.0,
    # Attempts before a job is `failed` (it stays visible; the reprint action queues it again).
    "PRINT_MAX_ATTEMPTS": 10,
    # Backoff after a retryable failure: base * 2**(attempt-1), capped.
    "PRINT_BACKOFF_SECONDS": 1.0,
    "PRINT_BACKOFF_MAX_SECONDS": 60.0,
    "DRAWER_POLL_SECONDS": 0.2,
    # A kick request older than this is discarded: a drawer popping long after the sale is a risk.
    "DRAWER_KICK_MAX_AGE_SECONDS": 5.0,
    "PRINTER_STATUS_POLL_SECONDS": 5.0,
    # Where runstore puts virtual scanners' pty links and FIFOs and virtual printers' output.
    "DEVICES_DIR": None,
}


def device_setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])


def devices_dir() -> Path:
    configured = device_setting("DEVICES_DIR")
    if configured:
        return Path(configured)
    return Path(settings.BASE_DIR) / "var" / "devices"
