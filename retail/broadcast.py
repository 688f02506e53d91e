"""Best-effort channel-layer messages that the sender does not wait for.

A nudge after a commit ("there is more for you", "the day's figures changed") is sent from the
thread of the request that committed. ``async_to_sync(layer.group_send)`` would run the send on the
server's event loop (the one daphne serves every socket and response from) and block the request's
thread until it ran. On a loaded worker that loop lags: measured with 500 simulated stores on two
cloud workers, the pushes spent 90 % of their time waiting there, each holding its database
connection from the pool, so other requests queued for a connection.

``group_send_soon`` hands the send to that same loop and returns at once: the message goes out
when the loop gets to it (two sends handed over together may interleave; a nudge only says "look
again", so order does not matter). A failure is logged, never raised (polling backs every nudge up). Outside a served request (a management command, a test's client) there is
no serving loop, and it sends at once and waits, as ``async_to_sync`` does.
"""

from __future__ import annotations

import asyncio
import logging
import os
from concurrent.futures import Future

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer

log = logging.getLogger(__name__)


def _serving_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop that handed this thread its request (asgiref records it for ``async_to_sync``)."""
    local = SyncToAsync.threadlocal
    if getattr(local, "main_event_loop_pid", None) != os.getpid():
        return None
    loop = getattr(local, "main_event_loop", None)
    return loop if loop is not None and loop.is_running() else None


def _log_failure(future: Future) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("a channel-layer message was not sent", exc_info=future.exception())


def group_send_soon(group: str, message: dict, *, layer=None) -> None:
    """Send ``message`` to ``group`` without waiting for it (see the module's docstring), through
    ``layer`` or the default channel layer."""
    layer = layer or get_channel_layer()
    if layer is None:
        return
    loop = _serving_loop()
    if loop is not None:
        asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop).add_done_callback(
            _log_failure
        )
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # a nudge must never break what it follows
        log.exception("a channel-layer message was not sent")
