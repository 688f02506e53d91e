"""The nudge channel: a store keeps this WebSocket open and hears only "there is more for you".

The consumer watches the feed head and head office's outbox (a cheap indexed read every
``POLL_SECONDS``) and also listens on the ``sync.nudge`` group that store pushes trigger. Any
change sends ``{"type": "more"}``; the store then pulls. Nothing else travels here.
"""

from __future__ import annotations

import asyncio
import contextlib

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from cloud.sync.selectors import credential_authenticate, feed_head
from cloud.sync.services import NUDGE_GROUP

POLL_SECONDS = 0.2


def _token(scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"authorization" and value.startswith(b"Bearer "):
            return value[len(b"Bearer ") :].decode()
    return ""


class SyncNudgeConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        credential, _ = await database_sync_to_async(credential_authenticate)(token=_token(self.scope))
        if credential is None:
            await self.close(code=4401)
            return
        self.store_code = credential.store.code
        self.last_head = None
        await self.channel_layer.group_add(NUDGE_GROUP, self.channel_name)
        await self.accept()
        self.watcher = asyncio.ensure_future(self._watch())

    async def disconnect(self, code):
        watcher = getattr(self, "watcher", None)
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await watcher
        await self.channel_layer.group_discard(NUDGE_GROUP, self.channel_name)

    async def _watch(self):
        while True:
            head = await database_sync_to_async(feed_head)()
            if head != self.last_head:
                self.last_head = head
                await self.send_json({"type": "more"})
            await asyncio.sleep(POLL_SECONDS)

    async def sync_more(self, message):
        await self.send_json({"type": "more"})

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})
