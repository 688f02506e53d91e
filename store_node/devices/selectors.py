"""Reads for the device workers and `manage.py hw`: which terminals have which devices."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count

from hardware.layout import PAPER_58MM, PAPER_80MM, Paper
from retail.stores.models import Terminal
from store_node.devices import publish
from store_node.devices.models import DrawerKick, DrawerStatus, PrintJob, PrintStatus


@dataclass(frozen=True)
class TerminalDevices:
    terminal_id: object
    label: str
    printer_address: str
    printer_profile: str
    paper: Paper
    drawer_pin: int
    scanner_address: str


def terminal_devices(*, terminal: Terminal) -> TerminalDevices:
    """A terminal's device settings; the store-wide defaults (PRINTER_ADDRESS, SCANNER_ADDRESS) fill
    in what the terminal leaves blank."""
    return TerminalDevices(
        terminal_id=terminal.id,
        label=terminal.label,
        printer_address=terminal.printer_address or settings.DEFAULT_PRINTER_ADDRESS,
        printer_profile=terminal.printer_profile,
        paper=PAPER_58MM if terminal.paper_width_mm == 58 else PAPER_80MM,
        drawer_pin=terminal.drawer_pin,
        scanner_address=terminal.scanner_address or settings.DEFAULT_SCANNER_ADDRESS,
    )


def store_terminal_devices(
    *, store_code: str | None = None, label: str | None = None
) -> list[TerminalDevices]:
    """The active terminals of this node's store (or the one labelled ``label``, e.g. S01-T01)."""
    terminals = Terminal.objects.filter(active=True, store__code=store_code or settings.STORE_CODE)
    if label:
        store_code, _, code = label.partition("-")
        terminals = Terminal.objects.filter(store__code=store_code, code=code)
    return [terminal_devices(terminal=t) for t in terminals.select_related("store")]


def terminals_with_due_jobs(*, now) -> list:
    return list(
        PrintJob.objects.filter(
            status__in=[PrintStatus.QUEUED, PrintStatus.PRINTING], next_attempt_at__lte=now
        )
        .order_by()
        .values_list("terminal_id", flat=True)
        .distinct()
    )


def terminals_with_pending_kicks() -> list:
    return list(
        DrawerKick.objects.filter(status=DrawerStatus.PENDING)
        .order_by()
        .values_list("terminal_id", flat=True)
        .distinct()
    )


def print_job_counts(*, terminal_id) -> dict[str, int]:
    """Jobs per status for one terminal (all four statuses, zero included)."""
    counts = dict.fromkeys(PrintStatus.values, 0)
    rows = (
        PrintJob.objects.filter(terminal_id=terminal_id)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    counts.update(dict(rows))
    return counts


def print_jobs_recent(*, terminal_id, limit: int = 20) -> list[PrintJob]:
    """The terminal's latest jobs, newest first (one query)."""
    return list(PrintJob.objects.filter(terminal_id=terminal_id).order_by("-created_at")[:limit])


def printer_state(*, terminal_id) -> publish.PrinterState | None:
    """What the running node last learnt about the terminal's printer (None: not yet, or not in
    this process: the state lives in runstore's memory)."""
    board = publish.current_board
    return board.get(terminal_id) if board is not None else None
