"""``manage.py hw``: look at and poke the store's devices.

manage.py hw status [--terminal S01-T01]     devices per terminal, their state, the print queue
manage.py hw test-print [--terminal ...]     queue a test page (runstore prints it); --now prints here
manage.py hw scan 4006381333931 [--terminal ...] [--aim ]E0]
                                             type a scan on a terminal's virtual scanner (runstore's)
"""

from __future__ import annotations

import errno
import os
import time

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.table import Table

from hardware.addresses import DeviceAddressError, SerialAddress, VirtualAddress, parse_address
from hardware.errors import PrinterError
from hardware.printer import read_status
from retail.stores.models import Terminal
from store_node.devices.conf import devices_dir
from store_node.devices.documents import test_page_payload
from store_node.devices.models import PrintJob, PrintKind, PrintStatus
from store_node.devices.scanners import virtual_scanner_paths
from store_node.devices.selectors import TerminalDevices, print_job_counts, store_terminal_devices
from store_node.devices.services import print_job_enqueue
from store_node.devices.workers import PrintWorker, describe_error, describe_status


class Command(BaseCommand):
    help = "The store's devices: status, test print, and scans on the virtual scanner."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        status = sub.add_parser("status", help="list configured devices and their state")
        status.add_argument("--terminal", help="one terminal, e.g. S01-T01")
        test_print = sub.add_parser("test-print", help="print a test page")
        test_print.add_argument("--terminal", help="one terminal, e.g. S01-T01 (default: all)")
        test_print.add_argument("--now", action="store_true", help="print from this process, not runstore")
        test_print.add_argument("--wait", type=float, default=10.0, help="seconds to wait for runstore")
        scan = sub.add_parser("scan", help="send a barcode through a terminal's virtual scanner")
        scan.add_argument("code")
        scan.add_argument("--terminal", help="e.g. S01-T01 (default: the first with a virtual scanner)")
        scan.add_argument("--aim", help="AIM symbology prefix; default by length (]E0 EAN-13, ]E4 EAN-8)")
        scan.add_argument("--suffix", choices=["CR", "LF", "CRLF"], default="CR")

    def handle(self, *args, action, **options):
        # Wide and unwrapped when piped (logs, scripts); the terminal's own width otherwise.
        width = None if self.stdout.isatty() else 250
        self.console = Console(file=self.stdout, width=width)
        terminals = store_terminal_devices(label=options.get("terminal"))
        if options.get("terminal") and not terminals:
            raise CommandError(f"no terminal {options['terminal']} (expected e.g. S01-T01)")
        if not terminals:
            raise CommandError("this store has no active terminals")
        {"status": self.status, "test-print": self.test_print, "scan": self.scan}[action](
            terminals, **options
        )

    # -- status ------------------------------------------------------------------------------------
    def status(self, terminals: list[TerminalDevices], **options) -> None:
        piped = not self.stdout.isatty()
        table = Table(title="Devices", show_lines=False)
        for column in ("terminal", "printer", "printer state", "drawer", "scanner", "scanner state", "queue"):
            table.add_column(column, no_wrap=piped)
        for devices in terminals:
            printer_state = self._printer_state(devices.printer_address)
            counts = print_job_counts(terminal_id=devices.terminal_id)
            queue = ", ".join(f"{n} {status}" for status, n in counts.items() if n) or "empty"
            table.add_row(
                devices.label,
                devices.printer_address or "-",
                printer_state,
                f"pin {devices.drawer_pin}",
                devices.scanner_address or "-",
                self._scanner_state(devices),
                queue,
            )
        self.console.print(table)

    def _printer_state(self, address: str) -> str:
        try:
            parsed = parse_address(address)
        except DeviceAddressError as exc:
            return f"bad address: {exc}"
        try:
            status, detail = describe_status(read_status(parsed))
        except PrinterError as exc:
            status, detail = describe_error(exc)
        if isinstance(parsed, VirtualAddress):
            detail += " (simulated; runstore's own copy may differ)"
        return f"{status}: {detail}"

    def _scanner_state(self, devices: TerminalDevices) -> str:
        if not devices.scanner_address:
            return "none"
        try:
            parsed = parse_address(devices.scanner_address)
        except DeviceAddressError as exc:
            return f"bad address: {exc}"
        if isinstance(parsed, VirtualAddress):
            link, fifo = virtual_scanner_paths(devices_dir(), devices.label)
            return f"simulated, fed at {fifo}" if fifo.exists() else "simulated; runstore not running"
        if isinstance(parsed, SerialAddress):
            return "present" if os.path.exists(parsed.device) else f"not connected ({parsed.device} missing)"
        return "not a scanner address (serial:// or virtual://)"

    # -- test-print --------------------------------------------------------------------------------
    def test_print(self, terminals: list[TerminalDevices], *, now: bool, wait: float, **options) -> None:
        jobs = []
        for devices in terminals:
            payload = test_page_payload(label=devices.label, printer_address=devices.printer_address)
            terminal = Terminal.objects.get(pk=devices.terminal_id)
            jobs.append((devices, print_job_enqueue(terminal=terminal, kind=PrintKind.TEST, payload=payload)))
        if now:
            worker = PrintWorker()
            for devices, _job in jobs:
                worker.drain(terminal_id=devices.terminal_id)
        deadline = time.monotonic() + (0 if now else wait)
        while True:
            states = {job.pk: PrintJob.objects.get(pk=job.pk) for _, job in jobs}
            done = all(s.status in (PrintStatus.PRINTED, PrintStatus.FAILED) for s in states.values())
            if done or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        failures = 0
        for devices, job in jobs:
            state = states[job.pk]
            if state.status == PrintStatus.PRINTED:
                self.stdout.write(f"{devices.label}: test page printed on {devices.printer_address}")
            elif state.status == PrintStatus.FAILED:
                failures += 1
                self.stdout.write(f"{devices.label}: test page failed: {state.last_error}")
            else:
                failures += 1
                error = f" (last error: {state.last_error})" if state.last_error else ""
                self.stdout.write(
                    f"{devices.label}: test page {state.status}{error}; it prints when runstore's print "
                    "worker reaches the printer (or use --now)"
                )
        if failures:
            raise CommandError(f"{failures} test page(s) not printed yet")

    # -- scan ----------------------------------------------------------------------------------------
    def scan(self, terminals: list[TerminalDevices], *, code: str, aim: str | None, suffix: str, **options):
        devices = next((d for d in terminals if _is_virtual(d.scanner_address)), None)
        if devices is None:
            labels = ", ".join(d.label for d in terminals)
            raise CommandError(
                f"no virtual scanner on {labels}: set the terminal's scanner address to virtual://"
            )
        _link, fifo = virtual_scanner_paths(devices_dir(), devices.label)
        if aim is None:
            aim = {13: "]E0", 12: "]E0", 8: "]E4"}.get(len(code), "") if code.isdigit() else ""
        frame = (aim + code).encode("utf-8") + {"CR": b"\r", "LF": b"\n", "CRLF": b"\r\n"}[suffix]
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENXIO):
                raise CommandError(
                    f"the virtual scanner of {devices.label} is not running: start manage.py runstore"
                ) from None
            raise
        try:
            os.write(fd, frame)
        finally:
            os.close(fd)
        self.stdout.write(f"{devices.label}: scanned {aim}{code}")


def _is_virtual(address: str) -> bool:
    try:
        return isinstance(parse_address(address), VirtualAddress)
    except DeviceAddressError:
        return False
