"""The calls the store node makes: render a receipt or report, print it, kick the drawer, ask status.

    from hardware.printer import print_receipt, read_status, kick_drawer

    print_receipt(receipt, "tcp://10.0.0.50:9100", paper=PAPER_80MM, profile="TM-T88V", drawer_pin=2)

Every function that touches a device raises a :class:`~hardware.errors.PrinterError` subclass
(``PrinterOffline``, ``PrinterTimeout``, ``PaperOut``, ``CoverOpen``, ``PrinterUnsupported``)
with a stable ``code`` for the print-job row.
"""

from __future__ import annotations

from typing import Literal

from hardware.addresses import DeviceAddress
from hardware.escpos_render import DEFAULT_PROFILE, drawer_kick, render_escpos
from hardware.layout import PAPER_58MM, PAPER_80MM, Layout, Paper, receipt_layout, report_layout
from hardware.receipt import Receipt, Report
from hardware.status import PrinterStatus
from hardware.transport import read_status, send_bytes

__all__ = [
    "PAPER_58MM",
    "PAPER_80MM",
    "drawer_kick",
    "kick_drawer",
    "print_layout",
    "print_receipt",
    "print_report",
    "read_status",
    "receipt_bytes",
    "report_bytes",
]


def receipt_bytes(
    receipt: Receipt,
    *,
    paper: Paper = PAPER_80MM,
    profile: str = DEFAULT_PROFILE,
    drawer_pin: Literal[2, 5] | None = None,
) -> bytes:
    """The complete ESC/POS job for ``receipt`` (store it on the print-job row for reprints)."""
    return render_escpos(receipt_layout(receipt, paper), profile=profile, drawer_pin=drawer_pin)


def report_bytes(report: Report, *, paper: Paper = PAPER_80MM, profile: str = DEFAULT_PROFILE) -> bytes:
    return render_escpos(report_layout(report, paper), profile=profile)


def print_layout(
    layout: Layout,
    address: str | DeviceAddress,
    *,
    profile: str = DEFAULT_PROFILE,
    drawer_pin: Literal[2, 5] | None = None,
    check_status: bool = True,
) -> PrinterStatus:
    data = render_escpos(layout, profile=profile, drawer_pin=drawer_pin)
    return send_bytes(address, data, check_status=check_status, preview=layout)


def print_receipt(
    receipt: Receipt,
    address: str | DeviceAddress,
    *,
    paper: Paper = PAPER_80MM,
    profile: str = DEFAULT_PROFILE,
    drawer_pin: Literal[2, 5] | None = None,
    check_status: bool = True,
) -> PrinterStatus:
    """Render and send a receipt; returns the printer status read before sending."""
    return print_layout(
        receipt_layout(receipt, paper),
        address,
        profile=profile,
        drawer_pin=drawer_pin,
        check_status=check_status,
    )


def print_report(
    report: Report,
    address: str | DeviceAddress,
    *,
    paper: Paper = PAPER_80MM,
    profile: str = DEFAULT_PROFILE,
    check_status: bool = True,
) -> PrinterStatus:
    return print_layout(report_layout(report, paper), address, profile=profile, check_status=check_status)


def kick_drawer(address: str | DeviceAddress, pin: Literal[2, 5] = 2) -> None:
    """Open the cash drawer wired to the printer at ``address``.

    No status pre-check: the drawer matters more than the paper for a cash sale. ESC p is not a
    real-time command, so a printer that is offline (cover open, paper out) may not execute it;
    the error then comes from the send itself where the transport can tell.
    """
    send_bytes(address, drawer_kick(pin), check_status=False)
