"""Audit writes: who did something sensitive at a till, and who approved it."""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from retail.audit.models import AuditEntry


def audit_record(
    *, action: str, actor, store=None, terminal=None, approver=None, subject="", details: dict | None = None
) -> AuditEntry:
    """Write one audit entry. Invariant: it runs in the transaction of the action it records, so an
    action that rolls back leaves no entry and a committed one always has its entry."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the action it records")
    return AuditEntry.objects.create(
        action=action,
        actor=actor,
        store=store,
        terminal=terminal,
        approver=approver,
        subject=str(subject),
        details=details or {},
        created_at=timezone.now(),
    )
