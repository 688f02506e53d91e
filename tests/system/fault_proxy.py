"""A fault-injecting HTTP proxy of our own, on loopback, between store nodes and the cloud.

Each request is read whole from the client, then one fault is chosen:
- ``drop_request``: close the connection after reading part of the request (the cloud never sees it);
- ``drop_response``: forward it, let the cloud answer, then close without answering the client
  (the cloud applied it, the store never hears the acknowledgement);
- ``delay``: forward after a pause;
- ``duplicate``: forward it twice (the second answer is the one the client gets);
- ``reorder``: fail the client at once but forward this request later, after the next ones;
- ``pass``: forward it untouched.
While ``offline`` is set, every connection is closed at once, unread (the store's link is down).
Each forwarded request goes on its own upstream connection with ``Connection: close``.
"""

from __future__ import annotations

import asyncio
import random
import threading


class FaultProxy:
    FAULTS = ("drop_request", "drop_response", "delay", "duplicate", "reorder")

    def __init__(self, upstream_port: int, *, seed: int = 1, fault_rate: float = 0.4):
        self.upstream_port = upstream_port
        self.rng = random.Random(seed)
        self.fault_rate = fault_rate
        self.offline = False
        self.port = 0
        self.counts: dict[str, int] = {}
        self.held: list[bytes] = []
        self.loop = asyncio.new_event_loop()
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    # ------------------------------------------------------------ control

    def start(self) -> FaultProxy:
        self.thread.start()
        self.started.wait(10)
        return self

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def clean(self) -> None:
        self.fault_rate = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------ the proxy

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self.started.set()
        self.loop.run_forever()
        server.close()

    async def _read_request(self, reader) -> bytes | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        body = await reader.readexactly(length) if length else b""
        lines = [
            line
            for line in head.rstrip(b"\r\n").split(b"\r\n")
            if not line.lower().startswith(b"connection:")
        ]
        return b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n" + body

    async def _forward(self, request: bytes) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        try:
            writer.write(request)
            await writer.drain()
            return await reader.read(-1)
        finally:
            writer.close()

    def _choose(self) -> str:
        if self.rng.random() >= self.fault_rate:
            return "pass"
        return self.rng.choice(self.FAULTS)

    async def _client(self, reader, writer) -> None:
        if self.offline:
            writer.close()
            return
        try:
            request = await self._read_request(reader)
            if request is None:
                return
            fault = self._choose()
            self.counts[fault] = self.counts.get(fault, 0) + 1
            # A request held back earlier goes out now, after a newer one was read: reordered.
            held, self.held = self.held, []
            if fault == "drop_request":
                return
            if fault == "reorder":
                self.held.append(request)
                return
            if fault == "delay":
                await asyncio.sleep(self.rng.uniform(0.05, 0.5))
            if fault == "duplicate":
                await self._forward(request)
            response = await self._forward(request)
            for late in held:
                await self._forward(late)
            if fault == "drop_response":
                return
            writer.write(response)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
