"""The device workers of a store node: print queue, cash drawer, printer status.

Each is a thread that polls its table (cheap indexed queries on the node's SQLite) and hands the
work for one terminal to a short-lived "lane" thread, so a dead printer at one lane (a connect
timeout, a 1 s status pre-check) never delays the receipts of another. Everything that talks to one
printer (printing, kicking, asking status) takes that printer's lock: many network printers accept
one connection at a time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.db import close_old_connections, connection
from django.utils import timezone

from hardware.addresses import DeviceAddressError
from hardware.errors import HardwareError, PrinterError
from hardware.payload import receipt_from_dict, report_from_dict
from hardware.printer import kick_drawer, print_receipt, print_report, read_status
from hardware.status import PrinterStatus
from retail.stores.models import Terminal
from store_node.devices.conf import device_setting
from store_node.devices.models import PrintJob, PrintKind
from store_node.devices.print_queue import (
    drawer_kick_claim,
    drawer_kick_release,
    print_job_attempt_failed,
    print_job_claim,
    print_job_printed,
    print_job_retry_now,
)
from store_node.devices.publish import GroupPublisher, PrinterBoard
from store_node.devices.selectors import (
    TerminalDevices,
    store_terminal_devices,
    terminal_devices,
    terminals_with_due_jobs,
    terminals_with_pending_kicks,
)

log = logging.getLogger(__name__)

PRINTABLE = ("ready", "paper_low")

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def device_lock(address: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(address, threading.Lock())


def describe_status(status: PrinterStatus) -> tuple[str, str]:
    """A printer status as the cashier's status bar shows it."""
    if status.unknown:
        return "unknown", "Printer does not report its status"
    if status.cover_open:
        return "cover_open", "Printer cover open"
    if status.paper_out:
        return "paper_out", "Printer out of paper"
    if status.error:
        return "error", "Printer reports an error"
    if status.online is False:
        return "offline", "Printer offline"
    if status.paper_low:
        return "paper_low", "Paper low"
    return "ready", "Printer ready"


def describe_error(exc: Exception) -> tuple[str, str]:
    code = getattr(exc, "code", "error")
    known = {
        "paper_out": "Printer out of paper",
        "cover_open": "Printer cover open",
        "printer_offline": "Printer offline",
        "printer_timeout": "Printer not answering",
        "printer_unsupported": "Printer not supported on this machine",
    }
    status = {
        "printer_offline": "offline",
        "printer_timeout": "offline",
        "printer_unsupported": "unsupported",
    }
    return status.get(code, code if code in ("paper_out", "cover_open") else "error"), known.get(
        code, str(exc)
    )


class Lanes:
    """At most one running thread per key (a terminal)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._threads: dict[object, threading.Thread] = {}
        self._guard = threading.Lock()

    def run(self, key, target: Callable[[], None]) -> bool:
        with self._guard:
            running = self._threads.get(key)
            if running is not None and running.is_alive():
                return False
            thread = threading.Thread(target=_with_db(target), name=f"{self.name} {key}", daemon=True)
            self._threads[key] = thread
            thread.start()
            return True

    def join(self, timeout: float) -> None:
        with self._guard:
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(timeout)


def _with_db(target: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        try:
            target()
        except Exception:
            log.exception("device lane failed")
        finally:
            connection.close()

    return run


class _PollingThread:
    name = "worker"
    poll_setting = ""

    def __init__(self, *, poll_seconds: float | None = None) -> None:
        self.poll_seconds = poll_seconds if poll_seconds is not None else device_setting(self.poll_setting)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.lanes = Lanes(self.name)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.lanes.join(timeout)

    def _run(self) -> None:
        log.info("%s started", self.name)
        try:
            while not self._stop.is_set():
                try:
                    close_old_connections()
                    self.tick()
                except Exception:
                    log.exception("%s: tick failed", self.name)
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
        finally:
            connection.close()

    def tick(self) -> None:
        raise NotImplementedError


class PrintWorker(_PollingThread):
    """Prints queued jobs: claim (``printing`` + lease), send, mark ``printed``; on a printer error
    back to ``queued`` with backoff, or ``failed``. See store_node/devices/print_queue.py."""

    name = "print worker"
    poll_setting = "PRINT_POLL_SECONDS"

    def __init__(self, *, board: PrinterBoard | None = None, poll_seconds: float | None = None) -> None:
        super().__init__(poll_seconds=poll_seconds)
        self.board = board or PrinterBoard(None)

    def tick(self) -> None:
        for terminal_id in terminals_with_due_jobs(now=timezone.now()):
            self.lanes.run(terminal_id, lambda t=terminal_id: self.drain(terminal_id=t))

    def drain(self, *, terminal_id) -> int:
        """Print the terminal's due jobs in order until none is due; returns how many printed."""
        printed = 0
        while not self.stopping:
            job = print_job_claim(terminal_id=terminal_id)
            if job is None:
                break
            printed += self.print_job(job)
        return printed

    def print_job(self, job: PrintJob) -> bool:
        devices = terminal_devices(terminal=job.terminal)
        try:
            with device_lock(devices.printer_address):
                status = send_job(job, devices)
        except (PrinterError, HardwareError) as exc:
            retryable = bool(getattr(exc, "retryable", False))
            log.warning("print job %s at %s: %s (%s)", job.id, devices.label, exc, exc.code)
            print_job_attempt_failed(job_id=job.id, code=exc.code, message=str(exc), retryable=retryable)
            self.board.report(job.terminal_id, *describe_error(exc))
            return False
        except DeviceAddressError as exc:
            log.warning("print job %s at %s: bad printer address: %s", job.id, devices.label, exc)
            print_job_attempt_failed(job_id=job.id, code="bad_address", message=str(exc), retryable=False)
            self.board.report(job.terminal_id, "error", f"Bad printer address: {exc}")
            return False
        except ValueError as exc:
            log.error("print job %s at %s: unprintable payload: %s", job.id, devices.label, exc)
            print_job_attempt_failed(job_id=job.id, code="bad_payload", message=str(exc), retryable=False)
            return False
        except Exception as exc:
            # A bug, not a printer problem: keep the job and try again later rather than lose it.
            log.exception("print job %s at %s failed unexpectedly", job.id, devices.label)
            print_job_attempt_failed(job_id=job.id, code="internal_error", message=repr(exc), retryable=True)
            return False
        if not print_job_printed(job_id=job.id):
            log.warning("print job %s printed after its lease ran out", job.id)
        after = _after_print(status, self.board.get(job.terminal_id))
        if after is not None:
            self.board.report(job.terminal_id, *after)
        return True


def _after_print(status: PrinterStatus, previous) -> tuple[str, str] | None:
    """The printer's state after a job went through: it works. The pre-check only reads the paper
    sensor when something is wrong, so a known "paper low" stands until the poller says otherwise."""
    if status.paper_low:
        return "paper_low", "Paper low"
    if status.paper_low is None and previous is not None and previous.status == "paper_low":
        return None
    return "ready", "Printer ready"


def send_job(job: PrintJob, devices: TerminalDevices) -> PrinterStatus:
    """Render a job's payload and send it to the terminal's printer (raises PrinterError)."""
    if job.kind == PrintKind.REPORT:
        return print_report(
            report_from_dict(job.payload),
            devices.printer_address,
            paper=devices.paper,
            profile=devices.printer_profile,
        )
    return print_receipt(
        receipt_from_dict(job.payload),
        devices.printer_address,
        paper=devices.paper,
        profile=devices.printer_profile,
    )


class DrawerWorker(_PollingThread):
    """Opens drawers for fresh kick requests through the terminal's printer; stale ones are
    discarded (DRAWER_KICK_MAX_AGE_SECONDS)."""

    name = "drawer worker"
    poll_setting = "DRAWER_POLL_SECONDS"

    def __init__(
        self,
        *,
        publisher: GroupPublisher | None = None,
        board: PrinterBoard | None = None,
        poll_seconds: float | None = None,
    ) -> None:
        super().__init__(poll_seconds=poll_seconds)
        self.publisher = publisher
        self.board = board or PrinterBoard(None)

    def tick(self) -> None:
        for terminal_id in terminals_with_pending_kicks():
            self.lanes.run(terminal_id, lambda t=terminal_id: self.kick(terminal_id=t))

    def kick(self, *, terminal_id) -> bool:
        """Claim the terminal's fresh kicks and open its drawer once. True if it opened."""
        claimed = drawer_kick_claim(terminal_id=terminal_id)
        if not claimed:
            return False
        devices = terminal_devices(terminal=Terminal.objects.select_related("store").get(pk=terminal_id))
        try:
            with device_lock(devices.printer_address):
                kick_drawer(devices.printer_address, pin=devices.drawer_pin)  # type: ignore[arg-type]
        except (PrinterError, DeviceAddressError) as exc:
            log.warning("drawer at %s did not open: %s", devices.label, exc)
            drawer_kick_release(kick_ids=claimed)
            if isinstance(exc, PrinterError):
                self.board.report(terminal_id, *describe_error(exc))
            return False
        log.info("drawer at %s opened (%d request(s))", devices.label, len(claimed))
        if self.publisher is not None:
            self.publisher.send(terminal_id, {"type": "terminal.drawer", "event": "opened"})
        return True


class StatusPoller(_PollingThread):
    """Asks each terminal's printer for its status (DLE EOT) and reports changes to the terminal.

    When a printer becomes able to print again, its queued jobs are made due at once and the print
    worker is woken, so the queue does not sit out its backoff after the paper was changed.
    """

    name = "printer status"
    poll_setting = "PRINTER_STATUS_POLL_SECONDS"

    def __init__(
        self,
        *,
        board: PrinterBoard,
        publisher: GroupPublisher | None = None,
        print_worker: PrintWorker | None = None,
        poll_seconds: float | None = None,
        store_code: str | None = None,
    ) -> None:
        super().__init__(poll_seconds=poll_seconds)
        self.board = board
        self.publisher = publisher
        self.print_worker = print_worker
        self.store_code = store_code
        self._drawer_open: dict[object, bool] = {}

    def tick(self) -> None:
        for devices in store_terminal_devices(store_code=self.store_code):
            if devices.printer_address:
                self.lanes.run(devices.terminal_id, lambda d=devices: self.poll(d))

    def poll(self, devices: TerminalDevices) -> tuple[str, str]:
        previous = self.board.get(devices.terminal_id)
        drawer_open = None
        try:
            with device_lock(devices.printer_address):
                status = read_status(devices.printer_address)
            state = describe_status(status)
            drawer_open = status.drawer_open
        except PrinterError as exc:
            state = describe_error(exc)
        except DeviceAddressError as exc:
            state = ("error", f"Bad printer address: {exc}")
        self.board.report(devices.terminal_id, *state)
        if state[0] in PRINTABLE and (previous is None or previous.status not in PRINTABLE):
            if print_job_retry_now(terminal_id=devices.terminal_id) and self.print_worker is not None:
                self.print_worker.wake()
        self._report_drawer(devices.terminal_id, drawer_open)
        return state

    def _report_drawer(self, terminal_id, is_open: bool | None) -> None:
        if is_open is None:
            return
        was = self._drawer_open.get(terminal_id)
        self._drawer_open[terminal_id] = is_open
        if was is not None and was != is_open and self.publisher is not None:
            self.publisher.send(
                terminal_id, {"type": "terminal.drawer", "event": "opened" if is_open else "closed"}
            )
