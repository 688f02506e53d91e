"""Sending device news to a terminal's Channels group from worker threads.

The in-memory channel layer is not thread-safe: its queues belong to the event loop that serves
the WebSockets. So every send is scheduled onto that loop (``run_coroutine_threadsafe``); runstore
passes daphne's loop. Without one (a separate worker process on the Redis layer) the publisher runs
a small loop of its own.

Messages (pos_ui/consumers.py forwards them to the browser unchanged):

* ``terminal.scan``    ``data``, ``symbology``, ``aim``, ``kind``, ``key``, ``error``
* ``terminal.printer`` ``status`` (ready, paper_low, paper_out, cover_open, offline, error, unknown,
  unsupported), ``detail``
* ``terminal.drawer``  ``event`` (opened, closed)
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import Future
from dataclasses import dataclass

from channels.layers import get_channel_layer

log = logging.getLogger(__name__)


def terminal_group(terminal_id) -> str:
    # The same name pos_ui.consumers.terminal_group gives; repeated to keep the dependency one-way.
    return f"terminal-{terminal_id.hex}"


class GroupPublisher:
    """Fire-and-forget, thread-safe ``group_send`` to terminal groups."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None, layer=None) -> None:
        self.layer = layer or get_channel_layer()
        self._own_loop = loop is None
        if loop is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="channels publisher", daemon=True).start()
        self.loop = loop

    def send(self, terminal_id, message: dict) -> Future | None:
        if self.layer is None or self.loop.is_closed():
            return None
        future = asyncio.run_coroutine_threadsafe(
            self.layer.group_send(terminal_group(terminal_id), message), self.loop
        )
        future.add_done_callback(_log_failure)
        return future

    def close(self) -> None:
        if self._own_loop and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.loop.stop)


def _log_failure(future: Future) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.warning("group_send failed: %s", future.exception())


@dataclass(frozen=True)
class PrinterState:
    status: str
    detail: str


class PrinterBoard:
    """The last known printer state per terminal; publishes ``terminal.printer`` on every change.

    Both the status poller and the print worker report here, so the cashier hears "paper out" the
    moment a job fails, not at the next poll.
    """

    def __init__(self, publisher: GroupPublisher | None) -> None:
        self.publisher = publisher
        self._states: dict = {}
        self._lock = threading.Lock()

    def get(self, terminal_id) -> PrinterState | None:
        with self._lock:
            return self._states.get(terminal_id)

    def report(self, terminal_id, status: str, detail: str) -> bool:
        """Record a state; True (and a message to the terminal) if it changed."""
        state = PrinterState(status, detail)
        with self._lock:
            if self._states.get(terminal_id) == state:
                return False
            self._states[terminal_id] = state
        if self.publisher is not None:
            self.publisher.send(terminal_id, {"type": "terminal.printer", "status": status, "detail": detail})
        return True


# The running node's board (set by DeviceRuntime), for the status bar and `hw status`.
current_board: PrinterBoard | None = None
