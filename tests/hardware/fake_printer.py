"""A fake Epson network printer on 127.0.0.1 (port 0) for transport tests.

It records every byte it receives, answers DLE EOT 1/2/4 the way the Epson reference says
(status bytes built here, independently of hardware.status), and can be switched to:
offline (stops listening: connections are refused), paper out, cover open, silent (never
answers status), stalled (stops reading, so the sender's buffers fill up), and back.
"""

from __future__ import annotations

import socket
import threading
import time


class FakeEpsonPrinter:
    def __init__(self) -> None:
        self.received = bytearray()
        self.connections = 0
        self.paper_out = False
        self.paper_low = False
        self.cover_open = False
        self.drawer_pin3_high = False
        self.silent = False
        self.stalled = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._clients: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.port = 0
        self._listen()

    # -- switches -----------------------------------------------------------------------------
    def go_offline(self) -> None:
        self._close_listener()
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            _quiet_close(client)

    def come_back(self, *, paper_out: bool = False) -> None:
        """Listen again, healthy or (``paper_out=True``) already out of paper: never both in turn."""
        self.cover_open = self.silent = self.stalled = False
        self.paper_out = paper_out
        if self._listener is None:
            self._listen()

    def close(self) -> None:
        self._stop.set()
        self.go_offline()

    @property
    def address(self) -> str:
        return f"tcp://127.0.0.1:{self.port}?timeout=0.5"

    def job_bytes(self) -> bytes:
        """Everything received except the status queries."""
        with self._lock:
            data = bytes(self.received)
        for n in (1, 2, 4):
            data = data.replace(b"\x10\x04" + bytes([n]), b"")
        return data

    # -- Epson status bytes ---------------------------------------------------------------------
    def status_byte(self, n: int) -> int:
        fixed = 0b0001_0010  # bits 1 and 4 are always 1, bits 0 and 7 always 0
        offline = self.paper_out or self.cover_open
        if n == 1:
            return fixed | (0x04 if self.drawer_pin3_high else 0) | (0x08 if offline else 0)
        if n == 2:
            return fixed | (0x04 if self.cover_open else 0) | (0x20 if self.paper_out else 0)
        if n == 4:
            near_end = self.paper_low or self.paper_out
            return fixed | (0x0C if near_end else 0) | (0x60 if self.paper_out else 0)
        return fixed

    # -- server ---------------------------------------------------------------------------------
    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # A small receive buffer makes "stalled" fill up quickly instead of after megabytes.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(8)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            _quiet_close(listener)

    def _accept(self, listener: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                self._clients.append(client)
                self.connections += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        carry = b""
        client.settimeout(0.05)
        while not self._stop.is_set():
            if self.stalled:
                time.sleep(0.01)
                continue
            try:
                chunk = client.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                _quiet_close(client)
                return
            with self._lock:
                self.received += chunk
            data = carry + chunk
            start = 0
            while (i := data.find(b"\x10\x04", start)) != -1:
                if i + 2 >= len(data):
                    break
                if not self.silent:
                    try:
                        client.sendall(bytes([self.status_byte(data[i + 2])]))
                    except OSError:
                        return
                start = i + 3
            # Keep a possible half query ("\x10" or "\x10\x04") for the next read.
            tail = data[max(start, len(data) - 2) :]
            carry = tail if b"\x10" in tail else b""


def _quiet_close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
