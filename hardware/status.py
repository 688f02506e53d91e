"""Printer status from ESC/POS real-time status bytes (DLE EOT n), per the Epson command reference.

Every answer byte has fixed bits (bit 0 = 0, bit 1 = 1, bit 4 = 1, bit 7 = 0). A byte that does
not match is not a status answer (a stray XON, an ASB packet, line noise) and is treated as no
answer, rather than decoded into a confident wrong status.

* n=1 printer status:  bit 2 drawer kick connector pin 3 (1 = high), bit 3 offline.
* n=2 offline cause:   bit 2 cover open, bit 3 feeding by the FEED button, bit 5 stopped
                       because of paper end, bit 6 an error occurred.
* n=4 roll paper:      bits 2+3 near-end sensor (paper low), bits 5+6 end sensor (no paper).

python-escpos has ``is_online()``/``paper_status()`` but reports "plenty of paper" when the
printer does not answer at all; here no answer is ``None`` (unknown), never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DLE_EOT",
    "PrinterStatus",
    "decode_status",
    "is_status_byte",
]

DLE_EOT = b"\x10\x04"
STATUS_QUERIES = (1, 2, 4)

_FIXED_MASK = 0b1001_0011
_FIXED_VALUE = 0b0001_0010


@dataclass(frozen=True)
class PrinterStatus:
    """What the printer said; ``None`` for anything it did not (or cannot) tell us."""

    online: bool | None = None
    paper_low: bool | None = None
    paper_out: bool | None = None
    cover_open: bool | None = None
    drawer_open: bool | None = None
    error: bool | None = None
    # Raw answers to DLE EOT 1, 2 and 4, kept for logs and support tickets.
    raw: tuple[int | None, int | None, int | None] = (None, None, None)

    @property
    def unknown(self) -> bool:
        return self.online is None

    @property
    def ready(self) -> bool:
        """Known to be able to print now."""
        return self.online is True and not self.paper_out and not self.cover_open and not self.error


def is_status_byte(value: int) -> bool:
    return value & _FIXED_MASK == _FIXED_VALUE


def decode_status(
    printer: int | None,
    offline_cause: int | None = None,
    roll_paper: int | None = None,
    *,
    drawer_open_when_high: bool = True,
) -> PrinterStatus:
    """Decode the answers to DLE EOT 1, 2 and 4 (``None`` where the printer did not answer).

    Whether pin 3 reads high with the drawer open depends on the drawer's switch; most
    drawers sold with Epson printers do, hence the default.
    """
    printer = printer if printer is not None and is_status_byte(printer) else None
    offline_cause = offline_cause if offline_cause is not None and is_status_byte(offline_cause) else None
    roll_paper = roll_paper if roll_paper is not None and is_status_byte(roll_paper) else None

    online = drawer_open = None
    if printer is not None:
        online = not printer & 0x08
        pin3_high = bool(printer & 0x04)
        drawer_open = pin3_high if drawer_open_when_high else not pin3_high

    cover_open = error = None
    paper_out = paper_low = None
    if offline_cause is not None:
        cover_open = bool(offline_cause & 0x04)
        error = bool(offline_cause & 0x40)
        paper_out = bool(offline_cause & 0x20)
    if roll_paper is not None:
        paper_low = roll_paper & 0x0C == 0x0C
        paper_out = roll_paper & 0x60 == 0x60 or bool(paper_out)
    return PrinterStatus(
        online=online,
        paper_low=paper_low,
        paper_out=paper_out,
        cover_open=cover_open,
        drawer_open=drawer_open,
        error=error,
        raw=(printer, offline_cause, roll_paper),
    )


def encode_status(
    *,
    online: bool = True,
    drawer_pin3_high: bool = False,
    cover_open: bool = False,
    paper_low: bool = False,
    paper_out: bool = False,
    error: bool = False,
) -> tuple[int, int, int]:
    """The three bytes a real Epson would answer; used by the virtual printer."""
    printer = _FIXED_VALUE | (0x04 if drawer_pin3_high else 0) | (0 if online else 0x08)
    cause = _FIXED_VALUE | (0x04 if cover_open else 0) | (0x20 if paper_out else 0) | (0x40 if error else 0)
    roll = _FIXED_VALUE | (0x0C if paper_low or paper_out else 0) | (0x60 if paper_out else 0)
    return printer, cause, roll
