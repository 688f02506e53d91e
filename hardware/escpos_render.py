"""Layout -> ESC/POS bytes, through python-escpos so its code page and barcode knowledge is reused.

Two things python-escpos 3.1 gets wrong for us, handled here:

* After ``ESC @`` the printer is back on code page 0, but python-escpos's MagicEncode still
  believes the last page it selected is active and sends no ``ESC t``; Cyrillic after a
  reset then prints as CP437 garbage. :func:`reset_printer` forgets the page so the next
  text re-sends it.
* Each printer object builds its own 128-entry character maps for every code page it tries,
  which costs milliseconds per receipt; the maps depend only on the encoding, so they are
  shared between renders (the per-render "already used" state is not, to keep output
  deterministic).
"""

from __future__ import annotations

import logging
from typing import Literal

from escpos.escpos import Escpos
from escpos.magicencode import Encoder
from escpos.printer import Dummy

from hardware.barcodes import validate_barcode
from hardware.layout import Barcode, Cut, Feed, Layout, QrCode, Text

__all__ = ["DEFAULT_PROFILE", "drawer_kick", "render_escpos", "reset_printer", "write_layout"]

log = logging.getLogger(__name__)

DEFAULT_PROFILE = "default"
# CP858 is CP850 plus the euro sign: one page for Western European text and prices, so a
# line like "Käse 2,50 €" needs no code page switch in the middle.
PREFERRED_ENCODINGS: tuple[str, ...] = ("CP858",)

_CHARMAPS: dict[str, dict[str, int]] = {}


def new_dummy(profile: str = DEFAULT_PROFILE) -> Dummy:
    """A byte-capturing printer for ``profile`` with the shared, deterministic encoder."""
    printer = Dummy(profile=profile)
    printer.magic.encoder = _encoder(printer)
    return printer


def _encoder(printer: Escpos) -> Encoder:
    code_pages = printer.profile.get_code_pages()
    encoder = Encoder(code_pages)
    encoder.available_characters = _CHARMAPS
    # MagicEncode tries "used" encodings first; seeding it makes the preferred page win.
    encoder.used_encodings = {name for name in PREFERRED_ENCODINGS if name in code_pages}
    return encoder


def reset_printer(printer: Escpos) -> None:
    """Send ESC @ and make python-escpos re-send the code page before the next text."""
    printer.hw("INIT")
    printer.magic.encoding = None


def render_escpos(layout: Layout, *, profile: str = DEFAULT_PROFILE, drawer_pin: int | None = None) -> bytes:
    """The whole print job for ``layout`` as bytes: reset, optional drawer kick, content, cut."""
    printer = new_dummy(profile)
    write_layout(printer, layout, drawer_pin=drawer_pin)
    return printer.output


def write_layout(printer: Escpos, layout: Layout, *, drawer_pin: int | None = None) -> None:
    """Drive any python-escpos printer object (Dummy, Network, ...) through ``layout``."""
    reset_printer(printer)
    if drawer_pin is not None:
        # Kick first: the cashier needs the drawer while the receipt is still printing.
        printer.cashdraw(_check_pin(drawer_pin))
    style = _Style()
    for block in layout.blocks:
        if isinstance(block, Text):
            style.apply(printer, block)
            printer.textln(block.text)
        elif isinstance(block, Barcode):
            _barcode(printer, block)
            style.align = "center"
        elif isinstance(block, QrCode):
            _qr(printer, block)
            style.align = "center"
        elif isinstance(block, Feed):
            printer.print_and_feed(block.lines)
        elif isinstance(block, Cut):
            printer.cut(mode="PART" if block.partial else "FULL")
        else:  # pragma: no cover - Block is a closed union
            raise TypeError(f"unknown layout block {block!r}")


def drawer_kick(pin: Literal[2, 5] = 2) -> bytes:
    """ESC p bytes that pulse the cash drawer connected to the printer on ``pin`` (2 or 5)."""
    printer = Dummy()
    printer.cashdraw(_check_pin(pin))
    return printer.output


def _check_pin(pin: int) -> int:
    # python-escpos treats anything else as a raw sequence and fails with a TypeError.
    if pin not in (2, 5):
        raise ValueError(f"cash drawer pin must be 2 or 5, got {pin!r}")
    return pin


class _Style:
    """What the printer currently has set, so only changes are sent."""

    def __init__(self) -> None:
        # ESC @ leaves left alignment, normal size, bold off.
        self.align = "left"
        self.bold = False
        self.size = (False, False)

    def apply(self, printer: Escpos, block: Text) -> None:
        size = (block.double_width, block.double_height)
        changes: dict[str, object] = {}
        if block.align != self.align:
            changes["align"] = block.align
        if size != self.size:
            changes["double_width"], changes["double_height"] = size
            changes["normal_textsize"] = size == (False, False)
            # python-escpos sets size with ESC !, which also clears emphasis: restate bold.
            changes["bold"] = block.bold
        elif block.bold != self.bold:
            changes["bold"] = block.bold
        if changes:
            printer.set(**changes)
        self.align, self.bold, self.size = block.align, block.bold, size


def _barcode(printer: Escpos, block: Barcode) -> None:
    validate_barcode(block.symbology, block.data)
    if not printer.profile.supports("barcodeB"):
        log.warning("profile %s has no hardware barcodes; printing %r as text", printer.profile, block.data)
        printer.set(align="center")
        printer.textln(block.data)
        return
    code = "{B" + block.data if block.symbology == "CODE128" else block.data
    # _hw_barcode, not barcode(): the public method print()s "Using hardware barcode renderer"
    # to stdout on every call, which ends up in the store node's service log.
    printer._hw_barcode(
        code,
        block.symbology,
        height=block.height,
        width=block.module_width,
        pos="BELOW",
        font="A",
        align_ct=True,
        function_type="B",
    )
    printer.ln()


def _qr(printer: Escpos, block: QrCode) -> None:
    printer.set(align="center")
    if not printer.profile.supports("qrCode"):
        log.warning("profile %s has no native QR codes; printing %r as text", printer.profile, block.data)
        printer.textln(block.data)
        return
    printer.qr(block.data, size=block.module_size, native=True)
    printer.ln()
