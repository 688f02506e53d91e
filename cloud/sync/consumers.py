"""The nudge channel: a store keeps this WebSocket open and hears only "there is more for you".

Each socket says ``{"type": "more"}`` once when it opens, then whenever the feed head or head
office's outbox moves, and whenever a store push nudges the ``sync.nudge`` group; the store then
pulls. Nothing else travels here. The head is watched once per worker process, not once per
socket: one indexed read every ``POLL_SECONDS`` however many stores are connected to the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from cloud.sync.selectors import credential_authenticate, feed_head
from cloud.sync.services import NUDGE_GROUP

POLL_SECONDS = 0.2

# The consumers' database reads run on the worker's thread pool, not (as channels' default) all on
# one thread per process: 250 stores' sockets opening together on a worker queued their credential
# checks behind each other and the head poll, past daphne's 5 s to accept, and the store saw the
# connection reset. Each read is one short query on a connection of its own thread (or the pool's).
_db = functools.partial(database_sync_to_async, thread_sensitive=False)
log = logging.getLogger(__name__)


class FeedHeadWatcher:
    """The one poller of a worker process: while any socket is open it reads the feed head every
    ``POLL_SECONDS`` and tells every open socket when it moved."""

    def __init__(self):
        self.sockets: set[SyncNudgeConsumer] = set()
        self.task: asyncio.Task | None = None
        self.head = None

    async def add(self, socket: SyncNudgeConsumer) -> None:
        """Watch for ``socket``; returns once the head it is compared with has been read, so any
        change after that reaches the socket."""
        loop = asyncio.get_running_loop()

        def idle() -> bool:
            return self.task is None or self.task.done() or self.task.get_loop() is not loop

        if idle():
            head = await _db(feed_head)()
            if idle():  # another socket may have started it meanwhile
                self.head = head
                self.task = loop.create_task(self._run())
        self.sockets.add(socket)

    def remove(self, socket: SyncNudgeConsumer) -> None:
        self.sockets.discard(socket)
        if not self.sockets and self.task is not None:
            self.task.cancel()
            self.task = None

    async def _run(self) -> None:
        while self.sockets:
            try:
                head = await _db(feed_head)()
            except Exception:  # the database restarting: the sockets stay, the next poll retries
                log.warning("nudge: reading the feed head failed", exc_info=True)
                head = self.head
            if head != self.head:
                for socket in list(self.sockets):
                    with contextlib.suppress(Exception):
                        await socket.send_json({"type": "more"})
            self.head = head
            await asyncio.sleep(POLL_SECONDS)


watcher = FeedHeadWatcher()


def _token(scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"authorization" and value.startswith(b"Bearer "):
            return value[len(b"Bearer ") :].decode()
    return ""


class SyncNudgeConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        credential, _ = await _db(credential_authenticate)(token=_token(self.scope))
        if credential is None:
            await self.close(code=4401)
            return
        self.store_code = credential.store.code
        await self.channel_layer.group_add(NUDGE_GROUP, self.channel_name)
        await self.accept()
        await watcher.add(self)
        await self.send_json({"type": "more"})  # whatever happened while it was away

    async def disconnect(self, code):
        watcher.remove(self)
        await self.channel_layer.group_discard(NUDGE_GROUP, self.channel_name)

    async def sync_more(self, message):
        await self.send_json({"type": "more"})

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})
