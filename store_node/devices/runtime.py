"""Everything device-related a running store node does, started and stopped as one unit.

``manage.py runstore`` starts a :class:`DeviceRuntime` on daphne's event loop; tests start one on
their own loop. Printers behind ``virtual://`` addresses save each job (bytes, text, PNG) under
``<DEVICES_DIR>/printer-<name>/`` so staff can look at what a till printed.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from hardware.addresses import DeviceAddressError, VirtualAddress, parse_address
from hardware.simulators import virtual_printer
from store_node.devices import publish
from store_node.devices.conf import devices_dir as configured_devices_dir
from store_node.devices.publish import GroupPublisher, PrinterBoard
from store_node.devices.scanners import ScannerSet
from store_node.devices.selectors import store_terminal_devices
from store_node.devices.workers import DrawerWorker, PrintWorker, StatusPoller

log = logging.getLogger(__name__)


class DeviceRuntime:
    def __init__(
        self,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        store_code: str | None = None,
        devices_dir: Path | None = None,
        scanners: bool = True,
        status_poll_seconds: float | None = None,
    ) -> None:
        self.store_code = store_code
        self.devices_dir = devices_dir or configured_devices_dir()
        self.publisher = GroupPublisher(loop)
        self.board = PrinterBoard(self.publisher)
        self.print_worker = PrintWorker(board=self.board)
        self.drawer_worker = DrawerWorker(publisher=self.publisher, board=self.board)
        self.status_poller = StatusPoller(
            board=self.board,
            publisher=self.publisher,
            print_worker=self.print_worker,
            poll_seconds=status_poll_seconds,
            store_code=store_code,
        )
        self.scanners = (
            ScannerSet(publisher=self.publisher, devices_dir=self.devices_dir) if scanners else None
        )

    def start(self) -> None:
        terminals = store_terminal_devices(store_code=self.store_code)
        for devices in terminals:
            self._prepare_virtual_printer(devices.printer_address)
        publish.current_board = self.board
        self.print_worker.start()
        self.drawer_worker.start()
        self.status_poller.start()
        if self.scanners is not None:
            self.scanners.start(terminals)
        log.info(
            "devices started: %d terminal(s), %d scanner(s)",
            len(terminals),
            len(self.scanners.bridges) if self.scanners else 0,
        )

    def stop(self) -> None:
        if self.scanners is not None:
            self.scanners.stop()
        for worker in (self.status_poller, self.drawer_worker, self.print_worker):
            worker.stop()
        if publish.current_board is self.board:
            publish.current_board = None
        self.publisher.close()
        log.info("devices stopped")

    def _prepare_virtual_printer(self, address: str) -> None:
        try:
            parsed = parse_address(address)
        except DeviceAddressError:
            return
        if isinstance(parsed, VirtualAddress):
            virtual_printer(parsed.name, self.devices_dir / f"printer-{parsed.name}")
