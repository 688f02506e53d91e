"""Typed failures of store hardware, so the print-job table can store a code and retry sensibly.

Each printer error carries a short ``code`` (stable, for the job row and the API) next to the
human message. ``retryable`` tells the job runner whether waiting can fix it without a person.
"""

from __future__ import annotations

__all__ = [
    "CoverOpen",
    "HardwareError",
    "InvalidBarcode",
    "PaperOut",
    "PrinterError",
    "PrinterOffline",
    "PrinterTimeout",
    "PrinterUnsupported",
]


class HardwareError(Exception):
    code = "hardware_error"


class PrinterError(HardwareError):
    code = "printer_error"
    retryable = True


class PrinterOffline(PrinterError):
    """Nothing answers at the address (refused, unplugged, no such device or queue)."""

    code = "printer_offline"


class PrinterTimeout(PrinterError):
    """The printer accepted the connection but stopped reading or answering in time."""

    code = "printer_timeout"


class PaperOut(PrinterError):
    """The printer reports the roll is empty; a person has to change it."""

    code = "paper_out"


class CoverOpen(PrinterError):
    code = "cover_open"


class PrinterUnsupported(PrinterError):
    """The address needs something this machine lacks (e.g. pycups for cups://)."""

    code = "printer_unsupported"
    retryable = False


class InvalidBarcode(HardwareError, ValueError):
    """Barcode data a printer would print unreadable (bad check digit, wrong length or charset)."""

    code = "invalid_barcode"
