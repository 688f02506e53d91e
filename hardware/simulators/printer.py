"""A virtual receipt printer and cash drawer, for development tills and error-path tests.

``virtual://NAME`` addresses resolve to the process-wide :func:`virtual_printer` registry, so a
test or a demo store can look at exactly what a till "printed", and flip the printer into
offline / paper-out / cover-open to see how the job table copes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hardware.errors import CoverOpen, PaperOut, PrinterOffline
from hardware.layout import Layout
from hardware.status import PrinterStatus, decode_status, encode_status

__all__ = [
    "DrawerKick",
    "VirtualDrawer",
    "VirtualPrinter",
    "reset_virtual_printers",
    "virtual_printer",
]


@dataclass(frozen=True)
class DrawerKick:
    pin: int
    at: datetime
    on_ms: int
    off_ms: int


class VirtualDrawer:
    """Logs every kick; opens on a kick and stays open until :meth:`close` (the cashier pushes it)."""

    def __init__(self) -> None:
        self.kicks: list[DrawerKick] = []
        self.is_open = False
        self._lock = threading.Lock()

    def kick(self, pin: int, on_ms: int = 100, off_ms: int = 100) -> None:
        with self._lock:
            self.kicks.append(DrawerKick(pin, datetime.now(UTC), on_ms, off_ms))
            self.is_open = True

    def close(self) -> None:
        with self._lock:
            self.is_open = False


class VirtualPrinter:
    """Records the exact bytes of each job; optionally writes ``NNNN.bin`` (+ ``.txt``/``.png``)."""

    def __init__(self, name: str = "default", folder: str | Path | None = None) -> None:
        self.name = name
        self.folder = Path(folder) if folder is not None else None
        self.drawer = VirtualDrawer()
        self.jobs: list[bytes] = []
        self.online = True
        self.paper_low = False
        self.paper_out = False
        self.cover_open = False
        self._lock = threading.Lock()

    # -- state switches used by tests and the demo store ------------------------------------
    def go_offline(self) -> None:
        """Like pulling the power: nothing answers at all."""
        self.online = False

    def run_out_of_paper(self) -> None:
        self.paper_out = True

    def open_cover(self) -> None:
        self.cover_open = True

    def come_back(self) -> None:
        """Power on, new roll, cover closed."""
        self.online, self.paper_out, self.cover_open = True, False, False

    # -- what the transport calls -----------------------------------------------------------
    def status(self) -> PrinterStatus:
        if not self.online:
            return PrinterStatus()
        return decode_status(*self.status_bytes())

    def status_bytes(self) -> tuple[int, int, int]:
        return encode_status(
            online=not (self.paper_out or self.cover_open),
            drawer_pin3_high=self.drawer.is_open,
            cover_open=self.cover_open,
            paper_low=self.paper_low,
            paper_out=self.paper_out,
        )

    def receive(self, data: bytes, preview: Layout | None = None) -> None:
        """Accept one job, or raise the error a real printer's status would have led to."""
        if not self.online:
            raise PrinterOffline(f"virtual printer {self.name!r} is offline")
        if self.cover_open:
            raise CoverOpen(f"virtual printer {self.name!r}: cover open")
        if self.paper_out:
            raise PaperOut(f"virtual printer {self.name!r}: paper out")
        with self._lock:
            self.jobs.append(bytes(data))
            number = len(self.jobs)
        for pin, on_ms, off_ms in _drawer_pulses(data):
            self.drawer.kick(pin, on_ms, off_ms)
        if self.folder is not None:
            self._save(number, data, preview)

    def _save(self, number: int, data: bytes, preview: Layout | None) -> None:
        # Imported here: Pillow is only needed when someone asks for files.
        from hardware.preview import render_png, render_text

        assert self.folder is not None
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = self.folder / f"{number:04d}"
        stem.with_suffix(".bin").write_bytes(data)
        if preview is not None:
            stem.with_suffix(".txt").write_text(render_text(preview), encoding="utf-8")
            stem.with_suffix(".png").write_bytes(render_png(preview))


def _drawer_pulses(data: bytes) -> list[tuple[int, int, int]]:
    # ESC p m t1 t2; m is 0/48 for pin 2 and 1/49 for pin 5, t1/t2 in 2 ms units. A plain byte
    # scan can be fooled by image data, which is fine for a simulator.
    pulses = []
    start = 0
    while (i := data.find(b"\x1bp", start)) != -1 and i + 4 < len(data):
        m, t1, t2 = data[i + 2], data[i + 3], data[i + 4]
        if m in (0, 1, 48, 49):
            pulses.append((2 if m in (0, 48) else 5, t1 * 2, t2 * 2))
        start = i + 2
    return pulses


_registry: dict[str, VirtualPrinter] = {}
_registry_lock = threading.Lock()


def virtual_printer(name: str = "default", folder: str | Path | None = None) -> VirtualPrinter:
    """The printer behind ``virtual://name`` (created on first use)."""
    with _registry_lock:
        printer = _registry.get(name)
        if printer is None:
            printer = _registry[name] = VirtualPrinter(name, folder)
        elif folder is not None:
            printer.folder = Path(folder)
        return printer


def reset_virtual_printers() -> None:
    with _registry_lock:
        _registry.clear()
