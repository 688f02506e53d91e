"""Queueing device work. Callers run these inside their own transaction, so the job exists if and
only if the sale (or report) that asked for it committed."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from retail.sqlrows import rows_insert
from store_node.devices.models import DrawerKick, DrawerReason, PrintJob, PrintKind


def print_job_enqueue(*, terminal, kind: str, payload: dict[str, Any]) -> PrintJob:
    """Queue a document for the terminal's printer, due now."""
    if kind not in PrintKind.values:
        raise ValueError(f"unknown print kind {kind!r}")
    now = timezone.now()
    return rows_insert(
        [PrintJob(terminal=terminal, kind=kind, payload=payload, next_attempt_at=now, created_at=now)]
    )[0]


def drawer_kick_request(*, terminal, reason: str) -> DrawerKick:
    """Ask for the terminal's cash drawer to open."""
    if reason not in DrawerReason.values:
        raise ValueError(f"unknown drawer reason {reason!r}")
    return rows_insert([DrawerKick(terminal=terminal, reason=reason, requested_at=timezone.now())])[0]
