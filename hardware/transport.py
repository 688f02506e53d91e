"""Getting bytes to a printer, and status back, for every address scheme, always with a timeout.

Connections are built from python-escpos printer classes (``Network``, ``Serial``, ``Usb``,
``CupsPrinter``), each given the address's timeout; python-escpos's own defaults are no timeout
for USB and 60 s for TCP, either of which can freeze a till.

``file://`` is written with a non-blocking descriptor instead of ``escpos.printer.File``: a
write to a stuck ``/dev/usb/lp0`` blocks forever and a Python thread cannot be interrupted.
"""

from __future__ import annotations

import errno
import logging
import os
import select
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Protocol

import serial
from escpos.exceptions import DeviceNotFoundError
from escpos.printer import CupsPrinter, Network, Serial, Usb

from hardware.addresses import (
    DEFAULT_TIMEOUT,
    CupsAddress,
    DeviceAddress,
    FileAddress,
    SerialAddress,
    TcpAddress,
    UsbAddress,
    VirtualAddress,
    parse_address,
)
from hardware.errors import (
    CoverOpen,
    PaperOut,
    PrinterError,
    PrinterOffline,
    PrinterTimeout,
    PrinterUnsupported,
)
from hardware.layout import Layout
from hardware.simulators.printer import virtual_printer
from hardware.status import DLE_EOT, PrinterStatus, decode_status, is_status_byte

__all__ = ["open_channel", "read_status", "send_bytes"]

log = logging.getLogger(__name__)

# A real Epson answers DLE EOT within milliseconds; waiting longer only delays printers that
# never answer (some network interface boards), which then print without a pre-check.
STATUS_TIMEOUT = 1.0


class Channel(Protocol):
    """An open connection to one printer."""

    bidirectional: bool

    def write(self, data: bytes) -> None: ...

    def read_byte(self, timeout: float) -> int | None: ...

    def close(self) -> None: ...


def send_bytes(
    address: str | DeviceAddress,
    data: bytes,
    *,
    check_status: bool = True,
    preview: Layout | None = None,
) -> PrinterStatus:
    """Send one job. Raises a :class:`~hardware.errors.PrinterError` subclass if it cannot print.

    Where the link is bidirectional the printer is asked first (DLE EOT), so a job for a
    printer with an open cover fails with ``CoverOpen`` instead of vanishing into its buffer.
    Returns that status (``unknown`` where the printer cannot tell). ``preview`` is only used
    by ``virtual://`` printers, which save it next to the bytes.
    """
    parsed = _parse(address)
    if isinstance(parsed, VirtualAddress):
        printer = virtual_printer(parsed.name)
        status = printer.status()
        printer.receive(data, preview)
        return status
    channel = open_channel(parsed)
    try:
        status = PrinterStatus()
        if check_status and channel.bidirectional:
            status = _query(channel, min(STATUS_TIMEOUT, _timeout_of(parsed)), full=False)
            _raise_for(status, parsed)
        channel.write(data)
        return status
    finally:
        channel.close()


def read_status(address: str | DeviceAddress, *, drawer_open_when_high: bool = True) -> PrinterStatus:
    """Ask the printer (DLE EOT 1, 2, 4). Unknown fields where it does not or cannot answer.

    Raises ``PrinterOffline`` only when nothing can be connected at the address; a printer
    that is connected but silent gives an all-``None`` status.
    """
    parsed = _parse(address)
    if isinstance(parsed, VirtualAddress):
        return virtual_printer(parsed.name).status()
    channel = open_channel(parsed)
    try:
        if not channel.bidirectional:
            return PrinterStatus()
        return _query(channel, _timeout_of(parsed), full=True, drawer_open_when_high=drawer_open_when_high)
    finally:
        channel.close()


def open_channel(address: str | DeviceAddress) -> Channel:
    """Connect to a printer (not for ``virtual://``, which has no connection)."""
    parsed = _parse(address)
    if isinstance(parsed, TcpAddress):
        return _NetworkChannel(parsed)
    if isinstance(parsed, SerialAddress):
        return _SerialChannel(parsed)
    if isinstance(parsed, UsbAddress):
        return _UsbChannel(parsed)
    if isinstance(parsed, FileAddress):
        return _FileChannel(parsed)
    if isinstance(parsed, CupsAddress):
        if CupsPrinter.is_usable():
            return _CupsChannel(parsed)
        if shutil.which("lp"):
            return _LpChannel(parsed)
        raise PrinterUnsupported(
            "cups:// needs pycups (pip install pycups; apt install libcups2-dev) "
            "or the CUPS client's lp command (apt install cups-client)"
        )
    raise PrinterUnsupported(f"no channel for {parsed}")


def _parse(address: str | DeviceAddress) -> DeviceAddress:
    return parse_address(address) if isinstance(address, str) else address


def _timeout_of(address: DeviceAddress) -> float:
    return getattr(address, "timeout", STATUS_TIMEOUT)


def _query(
    channel: Channel, timeout: float, *, full: bool, drawer_open_when_high: bool = True
) -> PrinterStatus:
    printer = _ask(channel, 1, timeout)
    if printer is None:
        return PrinterStatus()
    # Offline cause and paper sensor only matter when something is wrong, unless asked for all.
    offline = bool(printer & 0x08)
    cause = _ask(channel, 2, timeout) if full or offline else None
    paper = _ask(channel, 4, timeout) if full or offline else None
    return decode_status(printer, cause, paper, drawer_open_when_high=drawer_open_when_high)


def _ask(channel: Channel, n: int, timeout: float) -> int | None:
    channel.write(DLE_EOT + bytes([n]))
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        value = channel.read_byte(left)
        if value is None:
            return None
        if is_status_byte(value):
            return value
        # Anything else (XON/XOFF, a late answer to an earlier query's garbage) is skipped.
    return None


def _raise_for(status: PrinterStatus, address: DeviceAddress) -> None:
    if status.online is not False:
        return
    if status.cover_open:
        raise CoverOpen(f"printer at {address} reports its cover open")
    if status.paper_out:
        raise PaperOut(f"printer at {address} reports it is out of paper")
    raise PrinterOffline(f"printer at {address} reports offline (raw status {status.raw})")


class _NetworkChannel:
    bidirectional = True

    def __init__(self, address: TcpAddress) -> None:
        self.address = address
        self.printer = Network(host=address.host, port=address.port, timeout=address.timeout)
        try:
            self.printer.open()
        except DeviceNotFoundError as exc:
            raise PrinterOffline(f"cannot connect to printer at {address}: {_last_line(exc)}") from exc
        self.sock: socket.socket = self.printer.device  # type: ignore[assignment]

    def write(self, data: bytes) -> None:
        try:
            self.sock.settimeout(self.address.timeout)
            self.sock.sendall(data)
        except TimeoutError as exc:
            raise PrinterTimeout(f"printer at {self.address} stopped accepting data") from exc
        except OSError as exc:
            raise PrinterOffline(f"connection to printer at {self.address} lost: {exc}") from exc

    def read_byte(self, timeout: float) -> int | None:
        try:
            self.sock.settimeout(timeout)
            data = self.sock.recv(1)
        except TimeoutError:
            return None
        except OSError as exc:
            raise PrinterOffline(f"connection to printer at {self.address} lost: {exc}") from exc
        if not data:
            raise PrinterOffline(f"printer at {self.address} closed the connection")
        return data[0]

    def close(self) -> None:
        self.printer.close()


class _SerialChannel:
    bidirectional = True

    def __init__(self, address: SerialAddress) -> None:
        self.address = address
        self.printer = Serial(
            devfile=address.device,
            baudrate=address.baudrate,
            bytesize=address.bytesize,
            parity=address.parity,
            stopbits=address.stopbits,
            timeout=address.timeout,
        )
        try:
            self.printer.open()
        except DeviceNotFoundError as exc:
            raise PrinterOffline(f"cannot open serial printer {address.device}: {_last_line(exc)}") from exc
        self.port: serial.Serial = self.printer.device  # type: ignore[assignment]
        # python-escpos sets only the read timeout; with flow control a write can block forever.
        self.port.write_timeout = address.timeout

    def write(self, data: bytes) -> None:
        try:
            self.port.write(data)
            self.port.flush()
        except serial.SerialTimeoutException as exc:
            raise PrinterTimeout(f"serial printer {self.address.device} stopped accepting data") from exc
        except (serial.SerialException, OSError) as exc:
            raise PrinterOffline(f"serial printer {self.address.device} lost: {exc}") from exc

    def read_byte(self, timeout: float) -> int | None:
        try:
            self.port.timeout = timeout
            data = self.port.read(1)
        except (serial.SerialException, OSError) as exc:
            raise PrinterOffline(f"serial printer {self.address.device} lost: {exc}") from exc
        return data[0] if data else None

    def close(self) -> None:
        try:
            self.printer.close()
        except (serial.SerialException, OSError):
            pass


class _UsbChannel:
    bidirectional = True

    def __init__(self, address: UsbAddress) -> None:
        import usb.core  # pyusb comes with python-escpos[usb]; imported here to keep startup light

        self.address = address
        self._usb = usb.core
        self.timeout_ms = max(1, int(address.timeout * 1000))
        self.printer = Usb(
            idVendor=address.vendor_id,
            idProduct=address.product_id,
            timeout=self.timeout_ms,
            in_ep=address.in_ep,
            out_ep=address.out_ep,
        )
        try:
            self.printer.open()
        except DeviceNotFoundError as exc:
            raise PrinterOffline(f"no USB printer at {address}: {_last_line(exc)}") from exc
        except usb.core.NoBackendError as exc:
            raise PrinterUnsupported("usb:// needs libusb (apt install libusb-1.0-0)") from exc

    def write(self, data: bytes) -> None:
        try:
            self.printer._raw(data)
        except self._usb.USBTimeoutError as exc:
            raise PrinterTimeout(f"USB printer {self.address} stopped accepting data") from exc
        except self._usb.USBError as exc:
            raise PrinterOffline(f"USB printer {self.address} lost: {exc}") from exc

    def read_byte(self, timeout: float) -> int | None:
        try:
            data = self.printer.device.read(self.address.in_ep, 64, max(1, int(timeout * 1000)))  # type: ignore[union-attr]
        except self._usb.USBTimeoutError:
            return None
        except self._usb.USBError as exc:
            raise PrinterOffline(f"USB printer {self.address} lost: {exc}") from exc
        return data[0] if len(data) else None

    def close(self) -> None:
        try:
            self.printer.close()
        except self._usb.USBError:
            pass


class _FileChannel:
    bidirectional = False
    timeout = DEFAULT_TIMEOUT

    def __init__(self, address: FileAddress) -> None:
        self.address = address
        try:
            # Append, so a plain file used as a spool keeps every job.
            self.fd = os.open(address.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o644)
        except OSError as exc:
            raise PrinterOffline(f"cannot open {address.path}: {exc.strerror}") from exc

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        deadline = time.monotonic() + self.timeout
        try:
            while view:
                try:
                    written = os.write(self.fd, view)
                except BlockingIOError:
                    written = 0
                view = view[written:]
                if view:
                    left = deadline - time.monotonic()
                    if left <= 0 or not select.select([], [self.fd], [], left)[1]:
                        raise PrinterTimeout(f"{self.address.path} stopped accepting data")
        except OSError as exc:
            if exc.errno in (errno.ENODEV, errno.ENXIO, errno.EIO):
                raise PrinterOffline(f"{self.address.path} is gone: {exc.strerror}") from exc
            raise PrinterError(f"writing {self.address.path} failed: {exc}") from exc

    def read_byte(self, timeout: float) -> int | None:
        return None

    def close(self) -> None:
        os.close(self.fd)


class _CupsChannel:
    bidirectional = False

    def __init__(self, address: CupsAddress) -> None:
        self.address = address
        self.printer = CupsPrinter(printer_name=address.queue)
        _with_timeout(self.printer.open, address.timeout, f"CUPS queue {address.queue}")

    def write(self, data: bytes) -> None:
        self.printer._raw(data)

    def read_byte(self, timeout: float) -> int | None:
        return None

    def close(self) -> None:
        # CupsPrinter submits the job on close; the local cupsd can still hang, hence the timeout.
        _with_timeout(self.printer.close, self.address.timeout, f"CUPS queue {self.address.queue}")


class _LpChannel:
    """A raw job through the CUPS command-line client: ``lp -d QUEUE -o raw``, for hosts without pycups."""

    bidirectional = False

    def __init__(self, address: CupsAddress) -> None:
        self.address = address
        self.buffer = bytearray()

    def write(self, data: bytes) -> None:
        # CUPS takes a job whole; the bytes are submitted on close, like python-escpos's CupsPrinter.
        self.buffer += data

    def read_byte(self, timeout: float) -> int | None:
        return None

    def close(self) -> None:
        if not self.buffer:
            return
        queue = self.address.queue
        try:
            result = subprocess.run(
                ["lp", "-d", queue, "-o", "raw", "-t", "omnitill"],
                input=bytes(self.buffer),
                capture_output=True,
                timeout=self.address.timeout,
            )
        except subprocess.TimeoutExpired as exc:
            raise PrinterTimeout(
                f"CUPS queue {queue} did not take the job within {self.address.timeout}s"
            ) from exc
        if result.returncode != 0:
            detail = result.stderr.decode(errors="replace").strip().splitlines()
            raise PrinterOffline(
                f"CUPS queue {queue}: {detail[-1] if detail else f'lp exited {result.returncode}'}"
            )
        self.buffer.clear()


def _with_timeout(call: Callable[[], None], timeout: float, what: str) -> None:
    # pycups has no timeouts of its own. The worker thread is abandoned if it hangs; that is
    # one stuck thread per dead cupsd, better than one stuck till.
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
            outcome.append(None)
        except BaseException as exc:  # re-raised on the caller's thread below
            outcome.append(exc)

    worker = threading.Thread(target=run, name=f"cups {what}", daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        raise PrinterTimeout(f"{what} did not answer within {timeout}s")
    if isinstance(outcome[0], DeviceNotFoundError):
        raise PrinterOffline(f"{what}: {_last_line(outcome[0])}") from outcome[0]
    if outcome[0] is not None:
        raise PrinterError(f"{what}: {outcome[0]}") from outcome[0]


def _last_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__
