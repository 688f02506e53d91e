"""A minimal WebSocket client (RFC 6455) for the cloud's nudge channel, on asyncio streams.

The channel carries only small text messages ("there is more for you"), so this client needs no
more than the handshake, unfragmented frames, ping/pong and close. (autobahn cannot be used here:
daphne pins txaio to Twisted in the same process.)
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import ssl as ssl_module
import struct
from collections.abc import Callable
from urllib.parse import urlsplit

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class NudgeError(ConnectionError):
    pass


def _frame(opcode: int, payload: bytes = b"") -> bytes:
    # Client frames are masked (RFC 6455 5.3).
    mask = os.urandom(4)
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 1 << 16:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def listen(
    url: str,
    *,
    token: str,
    on_message: Callable[[str], None],
    stop: Callable[[], bool],
    ping_every: float = 20.0,
    connect_timeout: float = 5.0,
) -> None:
    """Connect to ``url`` (ws:// or wss://) and call ``on_message`` per text message until closed or ``stop()``."""
    parts = urlsplit(url)
    secure = parts.scheme == "wss"
    port = parts.port or (443 if secure else 80)
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(
            parts.hostname, port, ssl=ssl_module.create_default_context() if secure else None
        ),
        connect_timeout,
    )
    try:
        key = base64.b64encode(os.urandom(16))
        request = (
            f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.hostname}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key.decode()}\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: Bearer {token}\r\n\r\n"
        )
        writer.write(request.encode())
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), connect_timeout)
        status = head.split(b"\r\n", 1)[0]
        accept = base64.b64encode(hashlib.sha1(key + _GUID).digest())
        if b" 101 " not in status or accept not in head:
            raise NudgeError(f"handshake refused: {status.decode(errors='replace')}")
        await _read_frames(reader, writer, on_message, stop, ping_every)
    finally:
        writer.close()


async def _read_frames(reader, writer, on_message, stop, ping_every: float) -> None:
    loop = asyncio.get_running_loop()
    last_heard = loop.time()
    while not stop():
        try:
            first = await asyncio.wait_for(reader.readexactly(2), 0.5)
        except TimeoutError:
            if loop.time() - last_heard > 2 * ping_every:
                raise NudgeError("the cloud stopped answering pings") from None
            if loop.time() - last_heard > ping_every:
                writer.write(_frame(0x9))
                await writer.drain()
            continue
        last_heard = loop.time()
        opcode, length = first[0] & 0x0F, first[1] & 0x7F
        if length == 126:
            length = struct.unpack("!H", await reader.readexactly(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", await reader.readexactly(8))[0]
        payload = await reader.readexactly(length) if length else b""
        if opcode == 0x1:
            on_message(payload.decode(errors="replace"))
        elif opcode == 0x9:
            writer.write(_frame(0xA, payload))
            await writer.drain()
        elif opcode == 0x8:
            writer.write(_frame(0x8, payload[:2]))
            await writer.drain()
            return
