"""CSV imports too large to answer within one request: a background thread of the worker runs the
import (all or nothing, as always) while its progress and, at the end, its report live in the
shared cache (Redis in production), so any worker can show them to the one who started it.

A worker that dies mid-import rolls the import's transaction back (nothing changed) and stops
beating: a job with no progress for ``STALE_AFTER_S`` reads as ``stalled``.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict

from django.core.cache import cache
from django.db import connections

from cloud.headoffice.catalog_csv import ImportReport, Progress

log = logging.getLogger(__name__)

JOB_TTL_S = 24 * 3600
STALE_AFTER_S = 120
REFUSED_KEPT = 1000  # the report lists this many refused rows and counts them all


def _key(job_id: str) -> str:
    return f"headoffice:csv-import:{job_id}"


def _update(job_id: str, **fields) -> None:
    job = cache.get(_key(job_id)) or {}
    cache.set(_key(job_id), {**job, **fields, "beat": time.time()}, JOB_TTL_S)


def report_dict(report: ImportReport) -> dict:
    """What the import page shows of a report (also for a report made in the request)."""
    data = asdict(report)
    data["refused_count"] = len(report.refused)
    data["refused"] = data["refused"][:REFUSED_KEPT]
    data["applied"] = report.applied
    return data


def import_job_start(*, run: Callable[[Progress], ImportReport], owner_id, filename: str = "") -> str:
    """Start ``run(progress)`` in a background thread; returns the job's id."""
    job_id = uuid.uuid4().hex
    _update(job_id, owner=owner_id, filename=filename, state="running", phase="queued", done=0, total=0)

    def progress(phase: str, done: int, total: int) -> None:
        _update(job_id, phase=phase, done=done, total=total)

    def work() -> None:
        try:
            report = run(progress)
            _update(job_id, state="done", report=report_dict(report))
        except Exception as exc:  # the import's transaction rolled back: nothing changed
            log.exception("CSV import %s failed", job_id)
            _update(job_id, state="failed", error=f"{type(exc).__name__}: {exc}"[:500])
        finally:
            connections.close_all()

    threading.Thread(target=work, name=f"csv-import-{job_id[:8]}", daemon=True).start()
    return job_id


def import_job_status(*, job_id: str, owner_id) -> dict | None:
    """The job as its owner may see it, or None (unknown, expired, or someone else's)."""
    job = cache.get(_key(job_id))
    if job is None or job.get("owner") != owner_id:
        return None
    if job["state"] == "running" and time.time() - job["beat"] > STALE_AFTER_S:
        job = {**job, "state": "stalled"}
    return {**job, "id": job_id}
