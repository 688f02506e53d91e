"""The print queue's state changes: claim, printed, attempt failed, retry now, reprint.

Every transition is a compare-and-set ``UPDATE ... WHERE status = <expected>``, so two workers (or a
worker and an admin action) can never both win: a job is claimed by exactly one worker at a time.

Guarantees (docs/hardware.md, "The print queue"):

* A claim moves the job to ``printing`` and sets ``next_attempt_at`` to the end of a lease in one
  statement; the worker then prints and marks it ``printed``.
* A printer gives no acknowledgement of what it printed. If the process dies after the bytes left
  and before ``printed`` was written, the job is still ``printing`` when the lease runs out and is
  printed again: **at least once** in that window (a duplicate receipt, never a lost one). Outside
  that window (printer off, paper out, cover open, refused connection: the send fails before any
  receipt byte is accepted) a job prints exactly once.
* A terminal's jobs print in the order they were queued: a job waits while an older job of the same
  terminal is queued or printing (a ``failed`` job no longer holds the line).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from retail.api_errors import DomainError, NotFound
from store_node.devices.conf import device_setting
from store_node.devices.models import DrawerKick, DrawerStatus, PrintJob, PrintKind, PrintStatus

__all__ = [
    "drawer_kick_claim",
    "drawer_kick_release",
    "print_job_attempt_failed",
    "print_job_claim",
    "print_job_printed",
    "print_job_reprint",
    "print_job_retry_now",
]

LEASE_EXPIRED = "lease_expired: the worker stopped while printing; printed again (may be a duplicate)"


def print_job_claim(
    *, terminal_id, now: datetime | None = None, lease_seconds: float | None = None
) -> PrintJob | None:
    """Claim the terminal's next job if it is due, or return None.

    The next job is the oldest ``queued`` or ``printing`` one; it is due when its
    ``next_attempt_at`` (backoff for ``queued``, lease end for ``printing``) has passed.
    """
    now = now or timezone.now()
    lease = timedelta(seconds=lease_seconds or device_setting("PRINT_LEASE_SECONDS"))
    head = (
        PrintJob.objects.filter(
            terminal_id=terminal_id, status__in=[PrintStatus.QUEUED, PrintStatus.PRINTING]
        )
        .order_by("created_at", "id")
        .values("id", "status", "next_attempt_at")
        .first()
    )
    if head is None or head["next_attempt_at"] > now:
        return None
    changes = {"status": PrintStatus.PRINTING, "attempts": F("attempts") + 1, "next_attempt_at": now + lease}
    if head["status"] == PrintStatus.PRINTING:
        changes["last_error"] = LEASE_EXPIRED
    with transaction.atomic():
        won = PrintJob.objects.filter(
            pk=head["id"], status=head["status"], next_attempt_at=head["next_attempt_at"]
        ).update(**changes)
        if not won:
            return None
        return PrintJob.objects.select_related("terminal").get(pk=head["id"])


def print_job_printed(*, job_id, now: datetime | None = None) -> bool:
    """Mark a claimed job printed. False if it was no longer ours (e.g. the lease ran out)."""
    return bool(
        PrintJob.objects.filter(pk=job_id, status=PrintStatus.PRINTING).update(
            status=PrintStatus.PRINTED, printed_at=now or timezone.now()
        )
    )


def print_job_attempt_failed(
    *, job_id, code: str, message: str, retryable: bool, now: datetime | None = None
) -> PrintJob | None:
    """Record a failed attempt: back to ``queued`` with exponential backoff, or ``failed`` when the
    error cannot heal by waiting or the attempts are used up. None if the job was no longer ours."""
    now = now or timezone.now()
    job = PrintJob.objects.filter(pk=job_id, status=PrintStatus.PRINTING).first()
    if job is None:
        return None
    if not retryable or job.attempts >= device_setting("PRINT_MAX_ATTEMPTS"):
        status, due = PrintStatus.FAILED, now
    else:
        base = float(device_setting("PRINT_BACKOFF_SECONDS"))
        delay = min(base * 2 ** max(job.attempts - 1, 0), float(device_setting("PRINT_BACKOFF_MAX_SECONDS")))
        status, due = PrintStatus.QUEUED, now + timedelta(seconds=delay)
    error = f"{code}: {message}"[:300]
    won = PrintJob.objects.filter(pk=job_id, status=PrintStatus.PRINTING, attempts=job.attempts).update(
        status=status, next_attempt_at=due, last_error=error
    )
    if not won:
        return None
    job.status, job.next_attempt_at, job.last_error = status, due, error
    return job


def print_job_retry_now(*, terminal_id, now: datetime | None = None) -> int:
    """Make the terminal's queued jobs due now (the printer came back: don't sit out the backoff)."""
    now = now or timezone.now()
    return PrintJob.objects.filter(
        terminal_id=terminal_id, status=PrintStatus.QUEUED, next_attempt_at__gt=now
    ).update(next_attempt_at=now)


def print_job_reprint(*, job_id, terminal_id=None, now: datetime | None = None) -> PrintJob:
    """The reprint action.

    A ``failed`` job is queued again as it is (it never completed, so this is not a copy); a
    ``printed`` receipt is queued as a new ``reprint`` job titled COPY, a printed report or test
    page as a new job of its kind. A job still queued or printing is refused: it will print anyway.
    With ``terminal_id`` (a till asking), only that terminal's jobs are found.
    """
    now = now or timezone.now()
    with transaction.atomic():
        jobs = PrintJob.objects.filter(pk=job_id)
        if terminal_id is not None:
            jobs = jobs.filter(terminal_id=terminal_id)
        job = jobs.first()
        if job is None:
            raise NotFound("No such print job", code="print_job_not_found")
        if job.status in (PrintStatus.QUEUED, PrintStatus.PRINTING):
            raise DomainError("This job has not finished printing yet", code="print_job_pending")
        if job.status == PrintStatus.FAILED:
            PrintJob.objects.filter(pk=job.pk, status=PrintStatus.FAILED).update(
                status=PrintStatus.QUEUED, attempts=0, next_attempt_at=now
            )
            job.refresh_from_db()
            return job
        kind, payload = job.kind, dict(job.payload)
        if kind in (PrintKind.RECEIPT, PrintKind.REPRINT):
            kind = PrintKind.REPRINT
            payload["title"] = "COPY"
        return PrintJob.objects.create(
            terminal_id=job.terminal_id, kind=kind, payload=payload, next_attempt_at=now, created_at=now
        )


def drawer_kick_claim(
    *, terminal_id, now: datetime | None = None, max_age_seconds: float | None = None
) -> list[int]:
    """Take the terminal's pending kick requests: discard the stale ones and claim the fresh ones
    (all of them, so two sales a second apart open the drawer once). Returns the claimed ids; the
    drawer should open if there are any.

    Claimed before kicking: a crash between claim and kick loses the kick (**at most once**), which
    is the safe side for a cash drawer.
    """
    now = now or timezone.now()
    max_age = timedelta(seconds=max_age_seconds or device_setting("DRAWER_KICK_MAX_AGE_SECONDS"))
    pending = DrawerKick.objects.filter(terminal_id=terminal_id, status=DrawerStatus.PENDING)
    with transaction.atomic():
        pending.filter(requested_at__lt=now - max_age).update(status=DrawerStatus.DISCARDED)
        fresh = list(pending.values_list("id", flat=True))
        if fresh:
            DrawerKick.objects.filter(pk__in=fresh, status=DrawerStatus.PENDING).update(
                status=DrawerStatus.DONE
            )
        return fresh


def drawer_kick_release(*, kick_ids: list[int]) -> int:
    """Give back claimed kicks whose kick failed, so the next round tries again while they are
    still fresh (after that they are discarded as stale)."""
    return DrawerKick.objects.filter(pk__in=kick_ids, status=DrawerStatus.DONE).update(
        status=DrawerStatus.PENDING
    )
