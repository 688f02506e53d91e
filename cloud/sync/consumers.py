"""The nudge channel: a store keeps this WebSocket open and hears what head office has for it.

Each socket hears, once when it opens, an empty slice ending where the slices it will be sent
begin: a store whose cursor is there already pulls nothing; one behind it pulls. Afterwards,
whenever the feed gains an entry that wakes the stores (or head office's outbox moves, or a push
nudges the ``sync.nudge`` group), it receives the new feed entries it may see with the positions
they span, ``{"type": "events", "after", "cursor", "events"}``: a store whose cursor is at least
``after`` applies them as a pulled page and pulls nothing; a slice too big for the socket is sent
as ``more``. The feed is watched once per worker process, not once per socket: one indexed read
every ``POLL_SECONDS`` however many stores are connected to the process, and one read of the new
entries for all of its sockets (docs/sync-protocol.md §3.6).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from cloud.sync.selectors import FeedSlice, credential_authenticate, feed_head, feed_last_seq, feed_slice
from cloud.sync.services import NUDGE_GROUP, feed_publish_cloud
from cloud.sync.shared_state import shared_state_publish

POLL_SECONDS = 0.2

# The consumers' database reads run on the worker's thread pool, not (as channels' default) all on
# one thread per process: 250 stores' sockets opening together on a worker queued their credential
# checks behind each other and the head poll, past daphne's 5 s to accept, and the store saw the
# connection reset. Each read is one short query on a connection of its own thread (or the pool's).
_db = functools.partial(database_sync_to_async, thread_sensitive=False)
log = logging.getLogger(__name__)


def _feed_changed(after: int) -> tuple[tuple[int, int], FeedSlice]:
    """What a watcher reads when the head moved: head office's new events copied into the feed
    (what the first pull would do), the head again (so a change after this read is seen at the next
    poll), then the feed after ``after`` for every socket."""
    feed_publish_cloud()
    head = feed_head()
    return head, feed_slice(after=after)


def _publish_every() -> float:
    return max(POLL_SECONDS, float(getattr(settings, "SYNC_SHARED_PUBLISH_SECONDS", 10.0)) / 2)


def _poll(publish: bool) -> tuple[int, int]:
    """The watcher's read of the head; with ``publish``, first the other stores' levels and
    balances into head office's outbox when due (``shared_state_publish``, as a pull does), so
    their cadence does not hang on the stores' polls: they travel with the next slice."""
    if publish:
        shared_state_publish()
    return feed_head()


def _feed_start() -> tuple[tuple[int, int], int]:
    """The watcher's first read: as ``_feed_changed``, head office's new events copied into the
    feed first, so the position a socket opens at holds them (a change still only in the outbox
    would not move the head the watcher compares with, and no slice would bring it)."""
    feed_publish_cloud()
    return feed_head(), feed_last_seq()


class FeedHeadWatcher:
    """The one poller of a worker process: while any socket is open it reads the feed head every
    ``POLL_SECONDS`` (at once when poked) and, when it moved, sends every open socket the new
    entries it may see."""

    def __init__(self):
        self.sockets: set[SyncNudgeConsumer] = set()
        self.task: asyncio.Task | None = None
        self.head = None
        self.position = 0  # the feed position the last slice reached: the next one starts after it
        self.poked: asyncio.Event | None = None

    async def add(self, socket: SyncNudgeConsumer) -> None:
        """Watch for ``socket``; returns once the head it is compared with has been read, so any
        change after that reaches the socket."""
        loop = asyncio.get_running_loop()

        def idle() -> bool:
            return self.task is None or self.task.done() or self.task.get_loop() is not loop

        if idle():
            head, position = await _db(_feed_start)()
            if idle():  # another socket may have started it meanwhile
                self.head, self.position = head, position
                self.poked = asyncio.Event()
                self.task = loop.create_task(self._run())
        self.sockets.add(socket)

    def remove(self, socket: SyncNudgeConsumer) -> None:
        self.sockets.discard(socket)
        if not self.sockets and self.task is not None:
            self.task.cancel()
            self.task = None

    def poke(self) -> None:
        """Read the head now rather than at the next poll (a push appended an entry that wakes)."""
        if self.poked is not None:
            self.poked.set()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        publish_at = loop.time()
        while self.sockets:
            try:
                publish = loop.time() >= publish_at
                if publish:
                    publish_at = loop.time() + _publish_every()
                head = await _db(_poll)(publish)
                if head != self.head:
                    self.head, change = await _db(_feed_changed)(self.position)
                    if change.entries is None:
                        log.info(
                            "nudge: the feed after %d to %d goes as more (%s): the stores pull it",
                            change.after,
                            change.cursor,
                            change.why,
                        )
                    self.position = change.cursor
                    await self._send(change)
            except Exception:  # the database restarting: the sockets stay, the next poll retries
                log.warning("nudge: reading the feed failed", exc_info=True)
            self.poked.clear()
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow the cancellation
            # that ``remove`` sends (CPython gh-86296), and the task would outlive its sockets.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(POLL_SECONDS):
                    await self.poked.wait()

    async def _send(self, change: FeedSlice) -> None:
        for socket in list(self.sockets):
            message = change.message_for(
                store_id=socket.store_id, region=socket.region, code=socket.store_code
            )
            with contextlib.suppress(Exception):
                await socket.send(text_data=message)


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
        store = credential.store
        self.store_id, self.region, self.store_code = store.id, store.region, store.code
        await self.channel_layer.group_add(NUDGE_GROUP, self.channel_name)
        await self.accept()
        await watcher.add(self)
        # Every entry after the watcher's position reaches this socket as a slice from now on (the
        # socket joined before the position is read, with no await between). So "what happened
        # while it was away" is the feed up to there: an empty slice, which a store already there
        # takes as had, and one behind it as "pull". Before, every socket heard "more" and every
        # store pulled, also one that had just pulled (500 stores starting together pulled twice).
        # The position counts entries that do not wake the stores too (other stores' levels and
        # members), so a store reconnecting in the middle of trading is usually behind it and pulls.
        position = watcher.position
        opening = FeedSlice(after=position, cursor=position, entries=[])
        await self.send(
            text_data=opening.message_for(store_id=self.store_id, region=self.region, code=self.store_code)
        )

    async def disconnect(self, code):
        watcher.remove(self)
        await self.channel_layer.group_discard(NUDGE_GROUP, self.channel_name)

    async def sync_more(self, message):
        watcher.poke()  # the watcher sends the new entries to every socket of this process

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})
