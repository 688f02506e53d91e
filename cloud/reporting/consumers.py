"""The live dashboard socket: tells a signed-in browser that figures it may see have changed."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from cloud.headoffice.selectors import ALL_STORES, NO_STORE, staff_store_scope
from cloud.reporting.live import GROUP


class DashboardConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        allowed = await database_sync_to_async(self._allowed)(user)
        if not allowed:
            await self.close(code=4403)
            return
        self.store_scope = await database_sync_to_async(staff_store_scope)(user=user)
        await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.accept()

    @staticmethod
    def _allowed(user) -> bool:
        return bool(
            user
            and user.is_authenticated
            and user.is_staff
            and user.has_perm("reporting.view_dailystoresales")
        )

    async def disconnect(self, code):
        await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def figures_changed(self, message):
        changes = message["changes"]
        if self.store_scope == NO_STORE:
            return
        if self.store_scope != ALL_STORES:
            changes = [c for c in changes if c["store_id"] == str(self.store_scope)]
        if changes:
            await self.send_json({"type": "figures.changed", "changes": changes})
