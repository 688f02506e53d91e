"""Store hardware speed: receipt rendering and scanner latency.

* ``hw.receipt_bytes_ms``: p99 wall time (time.perf_counter) of ``receipt_bytes()`` for a
  50-line receipt on 80 mm paper with the TM-T88V profile: layout + ESC/POS through
  python-escpos, Latin and Cyrillic text (two code pages). 200 renders (50 with ``quick``),
  after one warm-up render that fills the shared code page maps once per process.
* ``hw.scan_to_callback_p99_ms``: p99 from writing a scan's bytes on the master side of a
  pty until ``ScannerReader``'s callback runs, read through real pyserial. 200 scans (50
  with ``quick``). The store node later extends this path to the WebSocket.

Standalone: ``.venv/bin/python tests/benchmarks/hardware_bench.py [--quick]``.
"""

from __future__ import annotations

import sys
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from hardware.layout import PAPER_80MM
from hardware.printer import receipt_bytes
from hardware.receipt import Receipt, ReceiptLine, TaxRow, Tender
from hardware.scanner import Scan, ScannerReader
from hardware.simulators import VirtualSerialScanner


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


def _fifty_line_receipt() -> Receipt:
    names = ["Vollmilch 3,5% 1L", "Brot Roggen 500g", "Käse Gouda", "Пельмени 1кг", "Crème fraîche"]
    lines = tuple(
        ReceiptLine(
            f"{names[i % len(names)]} #{i}",
            Decimal("1.99"),
            Decimal("3.98") if i % 3 == 0 else Decimal("1.99"),
            quantity=Decimal("2") if i % 3 == 0 else Decimal("1"),
            tax_code="A" if i % 2 else "B",
        )
        for i in range(50)
    )
    return Receipt(
        receipt_number="R-0001-004711",
        issued_at=datetime(2025, 11, 23, 14, 5, tzinfo=UTC),
        cashier="Zoë",
        header_lines=("Omnitill Markt", "Hauptstraße 1, 1010 Wien"),
        lines=lines,
        subtotal=Decimal("116.42"),
        total=Decimal("116.42"),
        taxes=(TaxRow(Decimal("20"), Decimal("50.00"), Decimal("10.00"), "A"),),
        tenders=(Tender("Bar", Decimal("120.00")),),
        change=Decimal("3.58"),
        footer_lines=("Danke für Ihren Einkauf!",),
    )


def bench_receipt_bytes(renders: int) -> float:
    receipt = _fifty_line_receipt()
    receipt_bytes(receipt, paper=PAPER_80MM, profile="TM-T88V")
    samples = []
    for _ in range(renders):
        started = time.perf_counter()
        receipt_bytes(receipt, paper=PAPER_80MM, profile="TM-T88V")
        samples.append((time.perf_counter() - started) * 1000)
    return _p99(samples)


def bench_scan_to_callback(scans: int) -> float:
    arrived = threading.Event()
    stamp: list[float] = []

    def on_scan(scan: Scan) -> None:
        stamp.append(time.perf_counter())
        arrived.set()

    samples = []
    with VirtualSerialScanner() as scanner, ScannerReader(scanner.address(), on_scan) as reader:
        if not reader.wait_connected(5):
            raise RuntimeError("scanner reader did not connect to the pty")
        frame = b"]E04006381333931\r"
        for _ in range(scans):
            arrived.clear()
            stamp.clear()
            started = time.perf_counter()
            scanner.write(frame)
            if not arrived.wait(2):
                raise RuntimeError("scan did not arrive within 2 s")
            samples.append((stamp[0] - started) * 1000)
            time.sleep(0.002)  # scans are human-paced; don't measure a queue
    return _p99(samples)


def run(quick: bool) -> dict:
    count = 50 if quick else 200
    return {
        "hw.receipt_bytes_ms": {
            "value": bench_receipt_bytes(count),
            "unit": "ms",
            "target": 20,
            "better": "lower",
        },
        "hw.scan_to_callback_p99_ms": {
            "value": bench_scan_to_callback(count),
            "unit": "ms",
            "target": 5,
            "better": "lower",
        },
    }


if __name__ == "__main__":
    for name, figure in run(quick="--quick" in sys.argv).items():
        print(f"{name:30s} {figure['value']:8.3f} {figure['unit']}  (target <= {figure['target']})")
