"""A serial receipt printer on a pty, driven through python-escpos's Serial class."""

from __future__ import annotations

import os
import select
import threading
import time
import tty
from collections.abc import Iterator

import pytest

from hardware.errors import PaperOut
from hardware.printer import read_status
from hardware.transport import send_bytes


class FakeSerialEpson:
    """Reads the pty master like a printer's UART and answers DLE EOT n."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.received = bytearray()
        self.paper_out = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            if not select.select([self.master], [], [], 0.02)[0]:
                continue
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                return
            self.received += chunk
            for i in range(len(chunk) - 2):
                if chunk[i : i + 2] == b"\x10\x04":
                    n = chunk[i + 2]
                    answer = 0x12
                    if n == 1 and self.paper_out:
                        answer |= 0x08
                    elif n == 2 and self.paper_out:
                        answer |= 0x20
                    elif n == 4 and self.paper_out:
                        answer |= 0x6C
                    os.write(self.master, bytes([answer]))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1)
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def serial_printer() -> Iterator[FakeSerialEpson]:
    printer = FakeSerialEpson()
    yield printer
    printer.close()


def test_serial_status_and_job(serial_printer: FakeSerialEpson) -> None:
    address = f"serial://{serial_printer.path}?baudrate=38400&timeout=0.5"

    assert read_status(address).ready is True
    send_bytes(address, b"\x1b@hello\n")

    # The job is in the pty once send_bytes returns; the fake's UART thread reads it a moment later.
    deadline = time.monotonic() + 2
    while not bytes(serial_printer.received).endswith(b"\x1b@hello\n") and time.monotonic() < deadline:
        time.sleep(0.005)
    assert bytes(serial_printer.received).endswith(b"\x10\x04\x01\x1b@hello\n")


def test_serial_paper_out(serial_printer: FakeSerialEpson) -> None:
    serial_printer.paper_out = True
    address = f"serial://{serial_printer.path}?timeout=0.5"

    status = read_status(address)
    assert (status.online, status.paper_out, status.paper_low) == (False, True, True)
    with pytest.raises(PaperOut):
        send_bytes(address, b"\x1b@hello\n")
