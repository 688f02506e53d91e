"""Serial scanners to the terminal's screen: one ``hardware.scanner.ScannerReader`` per terminal.

Each good read goes through ``retail.barcodes.parse_scan`` (the checkout's own parser, AIM prefix
included) and is sent to the terminal's group as ``terminal.scan`` with the parsed ``kind`` and
``key``; a read the parser refuses is logged and still sent, with ``error`` set and no key, so the
cashier sees "scan again" instead of silence. Line noise and over-long frames never get this far:
the reader drops them with a log line.

``virtual://`` as a scanner address means a simulated scanner: a pseudo-terminal whose slave side
is linked at ``<DEVICES_DIR>/scanner-<S01-T01>`` and read through real pyserial, plus a FIFO at the
same path + ``.in``; whatever another process writes into the FIFO (``manage.py hw scan``) is typed
into the pty as the scanner would send it.
"""

from __future__ import annotations

import errno
import logging
import os
import select
import threading
from pathlib import Path

from hardware.addresses import DeviceAddressError, SerialAddress, VirtualAddress, parse_address
from hardware.scanner import Scan, ScannerReader
from hardware.simulators import VirtualSerialScanner
from retail.barcodes import BarcodeError, parse_scan
from store_node.devices.publish import GroupPublisher
from store_node.devices.selectors import TerminalDevices

log = logging.getLogger(__name__)


def scan_message(scan: Scan) -> dict:
    """The ``terminal.scan`` message for one read, parsed the way the checkout will parse it."""
    message = {
        "type": "terminal.scan",
        "data": scan.data,
        "symbology": scan.symbology,
        "aim": scan.aim,
        "kind": None,
        "key": None,
        "error": None,
    }
    try:
        result = parse_scan(f"{scan.aim or ''}{scan.data}")
    except BarcodeError as exc:
        log.warning("scan %r (%s) refused: %s", scan.data, scan.aim, exc)
        message["error"] = exc.code
        return message
    message["kind"], message["key"] = result.kind, result.key
    return message


def virtual_scanner_paths(devices_dir: Path, label: str) -> tuple[Path, Path]:
    """The pty link a virtual scanner is read from, and the FIFO `hw scan` writes into."""
    link = devices_dir / f"scanner-{label}"
    return link, link.with_name(link.name + ".in")


class VirtualScannerFeed:
    """A virtual scanner for a terminal, fed from a FIFO by other processes."""

    def __init__(self, devices_dir: Path, label: str) -> None:
        devices_dir.mkdir(parents=True, exist_ok=True)
        link, self.fifo = virtual_scanner_paths(devices_dir, label)
        self.scanner = VirtualSerialScanner(link_dir=devices_dir, name=link.name)
        self.fifo.unlink(missing_ok=True)
        os.mkfifo(self.fifo, 0o600)
        # Read-write, so open() does not wait for a writer and a writer closing gives no EOF.
        self._fd = os.open(self.fifo, os.O_RDWR | os.O_NONBLOCK)
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._relay, name=f"virtual scanner {label}", daemon=True)
        self._thread.start()

    def address(self, suffix: str = "CR") -> str:
        return self.scanner.address(suffix=suffix)

    def _relay(self) -> None:
        while True:
            ready, _, _ = select.select([self._fd, self._stop_r], [], [])
            if self._stop_r in ready:
                return
            try:
                chunk = os.read(self._fd, 4096)
            except OSError as exc:
                if exc.errno == errno.EAGAIN:
                    continue
                raise
            if chunk and self.scanner.plugged:
                self.scanner.write(chunk)

    def close(self) -> None:
        os.write(self._stop_w, b"x")
        self._thread.join(2)
        for fd in (self._fd, self._stop_r, self._stop_w):
            os.close(fd)
        self.fifo.unlink(missing_ok=True)
        self.scanner.close()
        self.scanner.path.unlink(missing_ok=True)


class ScannerBridge:
    """Reads one terminal's serial scanner and publishes its scans to that terminal's group."""

    def __init__(self, *, terminal_id, label: str, address: str | SerialAddress, publisher: GroupPublisher):
        self.terminal_id = terminal_id
        self.label = label
        self.publisher = publisher
        self.reader = ScannerReader(address, self.on_scan)

    def on_scan(self, scan: Scan) -> None:
        self.publisher.send(self.terminal_id, scan_message(scan))

    def start(self) -> None:
        self.reader.start()

    def stop(self) -> None:
        self.reader.stop()


class ScannerSet:
    """The scanner bridges of a store's terminals (virtual ones get a simulated scanner)."""

    def __init__(self, *, publisher: GroupPublisher, devices_dir: Path) -> None:
        self.publisher = publisher
        self.devices_dir = devices_dir
        self.bridges: dict[object, ScannerBridge] = {}
        self.virtual: dict[object, VirtualScannerFeed] = {}

    def start(self, terminals: list[TerminalDevices]) -> None:
        for devices in terminals:
            if not devices.scanner_address:
                continue
            try:
                parsed = parse_address(devices.scanner_address)
            except DeviceAddressError as exc:
                log.error("scanner of %s not started: %s", devices.label, exc)
                continue
            if isinstance(parsed, VirtualAddress):
                feed = VirtualScannerFeed(self.devices_dir, devices.label)
                self.virtual[devices.terminal_id] = feed
                address: str | SerialAddress = feed.address()
                log.info(
                    "virtual scanner of %s: pty %s, feed %s", devices.label, feed.scanner.path, feed.fifo
                )
            elif isinstance(parsed, SerialAddress):
                address = parsed
            else:
                log.error("scanner of %s not started: a scanner needs serial:// or virtual://", devices.label)
                continue
            bridge = ScannerBridge(
                terminal_id=devices.terminal_id,
                label=devices.label,
                address=address,
                publisher=self.publisher,
            )
            bridge.start()
            self.bridges[devices.terminal_id] = bridge

    def stop(self) -> None:
        for bridge in self.bridges.values():
            bridge.stop()
        for feed in self.virtual.values():
            feed.close()
        self.bridges.clear()
        self.virtual.clear()
