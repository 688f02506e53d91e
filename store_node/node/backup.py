"""Online backups of the store's SQLite database, taken while the tills keep selling.

Uses SQLite's own backup API (``sqlite3.Connection.backup``), which copies a consistent snapshot
page by page without stopping writers for long, then proves the copy by opening it and running
``PRAGMA integrity_check``. Old backups beyond the retention are deleted only after a good copy.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


class BackupError(RuntimeError):
    pass


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size_bytes: int
    pages: int
    events: int
    removed: list[Path]


def backup_database(
    *, source: Path, destination_dir: Path, keep: int = 14, now: datetime | None = None
) -> BackupResult:
    """Copy ``source`` into ``destination_dir`` as ``<stem>-YYYYmmddTHHMMSSZ.sqlite3`` and verify it.

    Invariant: a backup file that exists under its final name has passed the integrity check; a
    failed copy leaves only a ``.partial`` file, which is removed, and never counts toward retention.
    """
    if keep < 1:
        raise BackupError("keep at least one backup")
    if not source.exists():
        raise BackupError(f"no database at {source}")
    destination_dir.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    final = destination_dir / f"{source.stem}-{stamp}.sqlite3"
    partial = final.with_suffix(".partial")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(partial)
        try:
            # Small steps let the tills' writes interleave with the copy.
            src.backup(dst, pages=256, sleep=0.005)
        finally:
            dst.close()
    finally:
        src.close()
    try:
        pages, events = _verify(partial)
    except Exception:
        partial.unlink(missing_ok=True)
        raise
    partial.rename(final)
    removed = _prune(destination_dir, source.stem, keep)
    return BackupResult(
        path=final, size_bytes=final.stat().st_size, pages=pages, events=events, removed=removed
    )


def _verify(path: Path) -> tuple[int, int]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise BackupError(f"backup {path.name} failed its integrity check: {result}")
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        has_events = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='outbox_event'"
        ).fetchone()[0]
        events = conn.execute("SELECT count(*) FROM outbox_event").fetchone()[0] if has_events else 0
        return pages, events
    finally:
        conn.close()


def _prune(directory: Path, stem: str, keep: int) -> list[Path]:
    backups = sorted(directory.glob(f"{stem}-*.sqlite3"))
    old = backups[:-keep]
    for path in old:
        path.unlink()
    return old
