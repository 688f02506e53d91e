"""A serial barcode scanner on a pseudo-terminal, readable by real pyserial.

The reader opens :attr:`VirtualSerialScanner.path`, a symlink that always points at the
current pty, so unplug + replug gives a new pty behind the same address, like udev's
``/dev/serial/by-id/...`` links do for a real USB scanner.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import tty
from pathlib import Path

__all__ = ["VirtualSerialScanner"]


class VirtualSerialScanner:
    def __init__(self, link_dir: str | Path | None = None, name: str = "scanner") -> None:
        self._own_dir = link_dir is None
        self._dir = Path(tempfile.mkdtemp(prefix="omnitill-scanner-") if link_dir is None else link_dir)
        self.path = self._dir / name
        self._master: int | None = None
        self._slave: int | None = None
        self.slave_path: str | None = None
        self.replug()

    def address(self, suffix: str = "CR", baudrate: int = 9600) -> str:
        return f"serial://{self.path}?baudrate={baudrate}&suffix={suffix}"

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def scan(self, code: str, aim: str | None = "]E0", suffix: bytes = b"\r") -> bytes:
        """Send one read the way a scanner does; returns the exact bytes written."""
        data = (aim or "").encode("ascii") + code.encode("utf-8") + suffix
        self.write(data)
        return data

    def write(self, data: bytes) -> None:
        if self._master is None:
            raise OSError("virtual scanner is unplugged")
        view = memoryview(data)
        while view:
            written = os.write(self._master, view)
            view = view[written:]

    def unplug(self) -> None:
        """Close the pty: a reader blocked on it gets an I/O error, and the path disappears."""
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None
        self.slave_path = None
        self.path.unlink(missing_ok=True)

    def replug(self) -> None:
        """A new pty behind the same :attr:`path`."""
        if self._master is not None:
            self.unplug()
        master, slave = os.openpty()
        # Raw mode, so CR is not turned into LF before the reader has configured the port.
        tty.setraw(slave)
        self._master, self._slave = master, slave
        self.slave_path = os.ttyname(slave)
        temp_link = self.path.with_name(self.path.name + ".new")
        temp_link.unlink(missing_ok=True)
        os.symlink(self.slave_path, temp_link)
        os.replace(temp_link, self.path)

    def close(self) -> None:
        self.unplug()
        if self._own_dir:
            shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> VirtualSerialScanner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
