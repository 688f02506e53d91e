"""Serial barcode scanners: frames, AIM symbology identifiers, and a reader that survives replugging.

A scanner in serial (or USB-CDC) mode sends ``[AIM id] data suffix`` for each read, e.g.
``]E04006381333931\\r``. The reader thread turns those bytes into :class:`Scan` values and
hands them to ``on_scan``; the store node forwards them to the till's WebSocket group.

Latency matters (the cashier sees the line appear): the reader blocks in ``read(1)``, which
returns as soon as a byte arrives, then drains ``in_waiting``. The short read timeout only
bounds how long :meth:`ScannerReader.stop` takes, it never delays a frame.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import serial

from hardware.addresses import SerialAddress, parse_address

__all__ = [
    "AIM_SYMBOLOGIES",
    "FrameSplitter",
    "OverlongFrame",
    "Scan",
    "ScanRejected",
    "ScannerReader",
    "asyncio_callback",
    "parse_frame",
]

log = logging.getLogger(__name__)

DEFAULT_MAX_FRAME = 512
# FNC1 in GS1 data is transmitted as GS; every other control character is line noise.
_GS = "\x1d"

# ISO/IEC 15424 symbology identifiers: "]" + code character + modifier.
AIM_SYMBOLOGIES: dict[str, str] = {
    "]E0": "EAN-13",
    "]E1": "EAN-13 add-on 2",
    "]E2": "EAN-13 add-on 5",
    "]E3": "EAN-13 with add-on",
    "]E4": "EAN-8",
    "]C0": "Code 128",
    "]C1": "GS1-128",
    "]C2": "Code 128",
    "]A0": "Code 39",
    "]A1": "Code 39",
    "]A3": "Code 39",
    "]A4": "Code 39 full ASCII",
    "]G0": "Code 93",
    "]I0": "ITF",
    "]I1": "ITF",
    "]F0": "Codabar",
    "]e0": "GS1 DataBar",
    "]d0": "DataMatrix",
    "]d1": "DataMatrix",
    "]d2": "GS1 DataMatrix",
    "]Q0": "QR Code model 1",
    "]Q1": "QR Code",
    "]Q2": "QR Code",
    "]Q3": "GS1 QR Code",
    "]Q4": "GS1 QR Code",
    "]L0": "PDF417",
    "]L2": "PDF417",
    "]z0": "Aztec",
    "]X0": "Unknown",
}
_AIM_FAMILIES = {
    "A": "Code 39",
    "C": "Code 128",
    "d": "DataMatrix",
    "E": "EAN/UPC",
    "e": "GS1 DataBar",
    "F": "Codabar",
    "G": "Code 93",
    "I": "ITF",
    "L": "PDF417",
    "Q": "QR Code",
    "z": "Aztec",
}


@dataclass(frozen=True)
class Scan:
    data: str
    symbology: str | None
    aim: str | None
    raw: bytes


class ScanRejected(ValueError):
    """A frame that is not a barcode read (line noise, binary garbage)."""


@dataclass(frozen=True)
class OverlongFrame:
    """A frame longer than the configured maximum; its bytes were dropped."""

    length: int


class FrameSplitter:
    """Incremental splitter: the same frames come out however the byte stream is chunked."""

    def __init__(self, suffix: bytes, max_len: int = DEFAULT_MAX_FRAME) -> None:
        if not suffix:
            raise ValueError("frame suffix must not be empty")
        self.suffix = suffix
        self.max_len = max_len
        self._buf = bytearray()
        self._dropped = 0

    def feed(self, chunk: bytes) -> list[bytes | OverlongFrame]:
        out: list[bytes | OverlongFrame] = []
        self._buf += chunk
        while True:
            end = self._buf.find(self.suffix)
            if end == -1:
                # Keep memory bounded, but hold back enough bytes to see a suffix split
                # across two reads (the CR of a CRLF).
                keep = len(self.suffix) - 1
                if len(self._buf) > self.max_len + keep:
                    drop = len(self._buf) - keep
                    self._dropped += drop
                    del self._buf[:drop]
                return out
            frame = bytes(self._buf[:end])
            del self._buf[: end + len(self.suffix)]
            length = self._dropped + len(frame)
            self._dropped = 0
            out.append(OverlongFrame(length) if length > self.max_len else frame)


def parse_frame(frame: bytes) -> Scan | None:
    """One frame (suffix removed) -> Scan; ``None`` for an empty frame; ScanRejected for garbage."""
    # A scanner set to CRLF on a reader set to CR leaves a stray LF at the next frame's start.
    body = frame.strip(b"\r\n")
    if not body:
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScanRejected(f"not UTF-8 text (byte 0x{body[exc.start]:02x} at {exc.start})") from None
    for index, ch in enumerate(text):
        if not ch.isprintable() and ch != _GS:
            raise ScanRejected(f"non-printable character 0x{ord(ch):02x} at {index}")
    aim = None
    if len(text) >= 3 and text[0] == "]" and text[1].isalpha() and text[2].isalnum():
        aim, text = text[:3], text[3:]
    if not text:
        raise ScanRejected(f"symbology identifier {aim} with no data")
    symbology = None if aim is None else AIM_SYMBOLOGIES.get(aim) or _AIM_FAMILIES.get(aim[1], "Unknown")
    return Scan(data=text, symbology=symbology, aim=aim, raw=body)


class ScannerReader:
    """Reads a serial scanner in a thread and calls ``on_scan`` for every good read.

    Unplugging the scanner (or a USB-serial adapter disappearing) is not an error: the
    reader closes the port and reopens the same address with exponential backoff until
    :meth:`stop`. ``on_scan`` runs on the reader thread; keep it quick (hand off to a queue
    or ``loop.call_soon_threadsafe``, see :func:`asyncio_callback`).
    """

    def __init__(
        self,
        address: str | SerialAddress,
        on_scan: Callable[[Scan], None],
        *,
        max_frame: int = DEFAULT_MAX_FRAME,
        backoff_initial: float = 0.05,
        backoff_max: float = 2.0,
        poll_interval: float = 0.1,
    ) -> None:
        parsed = parse_address(address) if isinstance(address, str) else address
        if not isinstance(parsed, SerialAddress):
            raise ValueError(f"a scanner needs a serial:// address, got {address!s}")
        self.address = parsed
        self.on_scan = on_scan
        self.max_frame = max_frame
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.poll_interval = poll_interval
        self.connects = 0
        self.rejected = 0
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._thread: threading.Thread | None = None
        self._port: serial.Serial | None = None

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float | None = None) -> bool:
        return self._connected.wait(timeout)

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("scanner reader already started")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"scanner {self.address.device}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        port = self._port
        if port is not None:
            try:
                port.cancel_read()
            except Exception:  # the port may be closing under us; the poll timeout covers it
                pass
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> ScannerReader:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        delay = self.backoff_initial
        failures = 0
        while not self._stop.is_set():
            try:
                port = self._open()
            except (serial.SerialException, OSError, ValueError) as exc:
                failures += 1
                # One warning per outage, not one per retry.
                level = logging.WARNING if failures == 1 else logging.DEBUG
                log.log(
                    level, "scanner %s unavailable (%s); retrying in %.2fs", self.address.device, exc, delay
                )
                self._stop.wait(delay)
                delay = min(delay * 2, self.backoff_max)
                continue
            failures = 0
            delay = self.backoff_initial
            self.connects += 1
            self._port = port
            self._connected.set()
            log.info("scanner %s connected", self.address.device)
            try:
                self._read_loop(port)
            except (serial.SerialException, OSError) as exc:
                if not self._stop.is_set():
                    log.warning("scanner %s lost (%s); reconnecting", self.address.device, exc)
            finally:
                self._connected.clear()
                self._port = None
                try:
                    port.close()
                except (serial.SerialException, OSError):
                    pass

    def _open(self) -> serial.Serial:
        a = self.address
        return serial.Serial(
            port=a.device,
            baudrate=a.baudrate,
            bytesize=a.bytesize,
            parity=a.parity,
            stopbits=a.stopbits,
            timeout=self.poll_interval,
            exclusive=True,
        )

    def _read_loop(self, port: serial.Serial) -> None:
        # A fresh splitter per connection: half a frame from before an unplug is garbage.
        splitter = FrameSplitter(self.address.suffix_bytes, self.max_frame)
        while not self._stop.is_set():
            first = port.read(1)
            if not first:
                continue
            waiting = port.in_waiting
            chunk = (first + port.read(waiting)) if waiting else first
            for item in splitter.feed(chunk):
                self._handle(item)

    def _handle(self, item: bytes | OverlongFrame) -> None:
        if isinstance(item, OverlongFrame):
            self.rejected += 1
            log.warning(
                "scanner %s: dropped a %d-byte frame (max %d)",
                self.address.device,
                item.length,
                self.max_frame,
            )
            return
        try:
            scan = parse_frame(item)
        except ScanRejected as exc:
            self.rejected += 1
            log.warning("scanner %s: dropped frame %r: %s", self.address.device, item[:64], exc)
            return
        if scan is None:
            return
        try:
            self.on_scan(scan)
        except Exception:
            # A bug in the consumer must not stop the scanner for the rest of the shift.
            log.exception("scanner %s: on_scan failed for %r", self.address.device, scan.data)


def asyncio_callback(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[Scan]) -> Callable[[Scan], None]:
    """An ``on_scan`` that hands scans to ``queue`` on ``loop`` (for an async consumer)."""

    def on_scan(scan: Scan) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, scan)

    return on_scan
