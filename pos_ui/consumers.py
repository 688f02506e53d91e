"""The terminal's live channel: whatever the store node pushes to a till reaches its browser.

The hardware glue (serial scanner reader, printer and drawer watchers), the sync loop and the
order feed send to the Channels group ``terminal-<terminal_id.hex>``; this consumer forwards every
message of the known types to the browser as JSON, unchanged. The browser sends nothing but pings.
On connecting, the browser is first told its printer's last known state (the device runtime's
board): a change pushed between the page's render and the link coming up (a receipt failing for
lack of paper right after the sale) is not lost.
"""

from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from store_node.devices import publish

# The message types the glue sends (docs/ui.md lists their fields).
FORWARDED = ("terminal.scan", "terminal.printer", "terminal.drawer", "terminal.sync", "terminal.order")


def terminal_group(terminal_id) -> str:
    return f"terminal-{terminal_id.hex}"


class TerminalConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.group = terminal_group(self.scope["url_route"]["kwargs"]["terminal_id"])
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        # Read after joining the group: a later change comes as a push, an earlier one from here.
        board = publish.current_board
        printer = board.get(self.scope["url_route"]["kwargs"]["terminal_id"]) if board else None
        if printer is not None:
            await self.send_json(
                {"type": "terminal.printer", "status": printer.status, "detail": printer.detail}
            )

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def forward(self, message):
        await self.send_json(message)

    # Channels dispatches "terminal.scan" to terminal_scan, and so on.
    terminal_scan = forward
    terminal_printer = forward
    terminal_drawer = forward
    terminal_sync = forward
    terminal_order = forward
